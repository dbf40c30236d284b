"""LLM prompt templates, one text file per prompt, loaded by name.

Each file starts with a header of `# key: value` lines; `version` is required and is stored with
every row a model produced from the prompt, so a change of wording can be traced in the data.
The rest of the file is the prompt. Prompts hold instructions only: people's words are sent
separately, as delimited data (see `bot.analysis.model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources


class PromptError(LookupError):
    """A prompt file that is missing or has no version."""


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    text: str

    @property
    def ref(self) -> str:
        """What is stored with a model-produced row, e.g. "analyze@3"."""
        return f"{self.name}@{self.version}"


# Read once per process: prompt files ship inside the package and never change while it runs.
@cache
def load(name: str) -> Prompt:
    """The prompt called `name` (the file prompts/NAME.txt)."""
    try:
        raw = resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"no prompt called {name!r}") from None
    header: dict[str, str] = {}
    lines = raw.splitlines()
    while lines and lines[0].startswith("# "):
        key, _, value = lines.pop(0)[2:].partition(":")
        header[key.strip().lower()] = value.strip()
    if not header.get("version"):
        raise PromptError(f"prompt {name!r} has no '# version:' line")
    return Prompt(name=name, version=header["version"], text="\n".join(lines).strip())
