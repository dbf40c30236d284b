"""The fixed taxonomy of themes for AI adoption: what people's words are sorted into."""

from __future__ import annotations

THEMES: dict[str, str] = {
    "output_quality": "output quality and accuracy",
    "speed": "speed",
    "ease_of_use": "ease of use",
    "trust_safety": "trust and safety",
    "training": "training and know-how",
    "workflow_fit": "workflow fit",
    "access_licensing": "access and licensing",
    "time_saved": "time saved",
    "job_concerns": "job concerns",
    "other": "other",
}

LABELS = ("positive", "negative", "mixed", "neutral")


def theme_label(key: str) -> str:
    return THEMES.get(key, key.replace("_", " "))
