"""The local analyzer: sentiment from VADER plus a small lexicon of how people talk about AI
tools at work, themes from phrase rules, and follow-up questions from a fixed bank. It needs no
network and no account, and gives the same answer for the same words every time.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bot.analysis.analyzer import FollowUp, TextAnalysis, Turn
from bot.analysis.themes import theme_label

NAME = "local"

# Words, and the theme and feeling they carry when people talk about an AI tool at work.
# Misspellings within a small edit distance of these count too ("licnese", "halucinated").
_WORDS: dict[str, tuple[str, float]] = {
    # output quality
    "hallucinate": ("output_quality", -0.6),
    "hallucinated": ("output_quality", -0.6),
    "hallucinates": ("output_quality", -0.6),
    "hallucination": ("output_quality", -0.6),
    "hallucinations": ("output_quality", -0.6),
    "hallucinating": ("output_quality", -0.6),
    "inaccurate": ("output_quality", -0.5),
    "incorrect": ("output_quality", -0.5),
    "wrong": ("output_quality", -0.5),
    "nonsense": ("output_quality", -0.5),
    "garbage": ("output_quality", -0.6),
    "generic": ("output_quality", -0.3),
    "bland": ("output_quality", -0.3),
    "mistakes": ("output_quality", -0.4),
    "mistake": ("output_quality", -0.4),
    "invented": ("output_quality", -0.5),
    "invents": ("output_quality", -0.5),
    "fabricated": ("output_quality", -0.6),
    "accurate": ("output_quality", 0.4),
    "accuracy": ("output_quality", 0.0),
    "quality": ("output_quality", 0.0),
    "drafts": ("output_quality", 0.0),
    "draft": ("output_quality", 0.0),
    "summaries": ("output_quality", 0.0),
    "summary": ("output_quality", 0.0),
    "summarise": ("output_quality", 0.0),
    "summarize": ("output_quality", 0.0),
    "suggestions": ("output_quality", 0.0),
    "output": ("output_quality", 0.0),
    "outputs": ("output_quality", 0.0),
    "correct": ("output_quality", 0.3),
    "reliable": ("output_quality", 0.4),
    "unreliable": ("output_quality", -0.5),
    "outdated": ("output_quality", -0.4),
    "made-up": ("output_quality", -0.6),
    "flawless": ("output_quality", 0.6),
    "impressed": ("output_quality", 0.4),
    "generated": ("output_quality", 0.0),
    "generates": ("output_quality", 0.0),
    "broke": ("output_quality", -0.4),
    "breaks": ("output_quality", -0.4),
    "buggy": ("output_quality", -0.5),
    "bugs": ("output_quality", -0.3),
    "code": ("output_quality", 0.0),
    "regex": ("output_quality", 0.0),
    "translation": ("output_quality", 0.0),
    "translations": ("output_quality", 0.0),
    "tone": ("output_quality", 0.0),
    "nailed": ("output_quality", 0.5),
    # speed
    "slow": ("speed", -0.5),
    "slower": ("speed", -0.5),
    "sluggish": ("speed", -0.5),
    "laggy": ("speed", -0.5),
    "lag": ("speed", -0.4),
    "latency": ("speed", -0.2),
    "timeout": ("speed", -0.5),
    "timeouts": ("speed", -0.5),
    "loading": ("speed", -0.2),
    "spinning": ("speed", -0.3),
    "snappy": ("speed", 0.4),
    "responsive": ("speed", 0.3),
    "instant": ("speed", 0.4),
    "instantly": ("speed", 0.4),
    "ages": ("speed", -0.3),
    "fast": ("speed", 0.4),
    "quick": ("speed", 0.3),
    "crawls": ("speed", -0.5),
    "crawling": ("speed", -0.5),
    "freezes": ("speed", -0.5),
    "hangs": ("speed", -0.4),
    # ease of use
    "easy": ("ease_of_use", 0.4),
    "intuitive": ("ease_of_use", 0.5),
    "clunky": ("ease_of_use", -0.5),
    "confusing": ("ease_of_use", -0.5),
    "confused": ("ease_of_use", -0.4),
    "fiddly": ("ease_of_use", -0.4),
    "awkward": ("ease_of_use", -0.4),
    "complicated": ("ease_of_use", -0.4),
    "interface": ("ease_of_use", 0.0),
    "clicks": ("ease_of_use", -0.1),
    "menus": ("ease_of_use", -0.1),
    "buttons": ("ease_of_use", 0.0),
    "straightforward": ("ease_of_use", 0.4),
    "simple": ("ease_of_use", 0.3),
    "user-friendly": ("ease_of_use", 0.4),
    "cumbersome": ("ease_of_use", -0.5),
    # trust and safety
    "trust": ("trust_safety", 0.0),
    "trusted": ("trust_safety", 0.2),
    "safe": ("trust_safety", 0.0),
    "safety": ("trust_safety", 0.0),
    "privacy": ("trust_safety", -0.1),
    "private": ("trust_safety", 0.0),
    "confidential": ("trust_safety", -0.2),
    "compliance": ("trust_safety", -0.1),
    "compliant": ("trust_safety", 0.1),
    "gdpr": ("trust_safety", -0.1),
    "hipaa": ("trust_safety", -0.1),
    "legal": ("trust_safety", -0.1),
    "security": ("trust_safety", -0.1),
    "secure": ("trust_safety", 0.1),
    "risky": ("trust_safety", -0.4),
    "risk": ("trust_safety", -0.3),
    "leak": ("trust_safety", -0.5),
    "sensitive": ("trust_safety", -0.2),
    "allowed": ("trust_safety", 0.0),
    "nervous": ("trust_safety", -0.4),
    "uneasy": ("trust_safety", -0.4),
    "uncomfortable": ("trust_safety", -0.4),
    "wary": ("trust_safety", -0.4),
    "approved": ("trust_safety", 0.3),
    "customer-facing": ("trust_safety", 0.0),
    "incident": ("trust_safety", -0.3),
    # training and know-how
    "training": ("training", 0.0),
    "trained": ("training", 0.0),
    "tutorial": ("training", 0.0),
    "tutorials": ("training", 0.0),
    "documentation": ("training", 0.0),
    "docs": ("training", 0.0),
    "onboarding": ("training", 0.0),
    "workshop": ("training", 0.1),
    "course": ("training", 0.0),
    "examples": ("training", 0.0),
    "example": ("training", 0.0),
    "prompting": ("training", 0.0),
    "prompts": ("training", 0.0),
    "prompt": ("training", 0.0),
    "learn": ("training", 0.0),
    "learning": ("training", 0.0),
    "guide": ("training", 0.0),
    "cheatsheet": ("training", 0.1),
    "cheat-sheet": ("training", 0.1),
    "taught": ("training", 0.4),
    "teach": ("training", 0.0),
    "coaching": ("training", 0.1),
    # workflow fit
    "workflow": ("workflow_fit", 0.0),
    "workflows": ("workflow_fit", 0.0),
    "integration": ("workflow_fit", 0.0),
    "integrate": ("workflow_fit", 0.0),
    "integrated": ("workflow_fit", 0.2),
    "integrates": ("workflow_fit", 0.1),
    "plugin": ("workflow_fit", 0.0),
    "extension": ("workflow_fit", 0.0),
    "jira": ("workflow_fit", 0.0),
    "zendesk": ("workflow_fit", 0.0),
    "salesforce": ("workflow_fit", 0.0),
    "servicenow": ("workflow_fit", 0.0),
    "crm": ("workflow_fit", 0.0),
    "ide": ("workflow_fit", 0.0),
    "vscode": ("workflow_fit", 0.0),
    "outlook": ("workflow_fit", 0.0),
    "excel": ("workflow_fit", 0.0),
    "ticketing": ("workflow_fit", 0.0),
    "tabs": ("workflow_fit", -0.2),
    "copy-paste": ("workflow_fit", -0.3),
    "copy-pasting": ("workflow_fit", -0.3),
    "copypasting": ("workflow_fit", -0.3),
    "process": ("workflow_fit", 0.0),
    "switching": ("workflow_fit", -0.2),
    "template": ("workflow_fit", 0.0),
    "templates": ("workflow_fit", 0.0),
    "epic": ("workflow_fit", 0.0),
    "routine": ("workflow_fit", 0.0),
    "sprint": ("workflow_fit", 0.0),
    "standup": ("workflow_fit", 0.0),
    "pipeline": ("workflow_fit", 0.0),
    # access and licensing
    "licence": ("access_licensing", 0.0),
    "license": ("access_licensing", 0.0),
    "licences": ("access_licensing", 0.0),
    "licenses": ("access_licensing", 0.0),
    "licensing": ("access_licensing", 0.0),
    "seat": ("access_licensing", 0.0),
    "seats": ("access_licensing", 0.0),
    "access": ("access_licensing", 0.0),
    "login": ("access_licensing", 0.0),
    "log-in": ("access_licensing", 0.0),
    "sso": ("access_licensing", 0.0),
    "password": ("access_licensing", 0.0),
    "account": ("access_licensing", 0.0),
    "helpdesk": ("access_licensing", 0.0),
    "permissions": ("access_licensing", 0.0),
    "permission": ("access_licensing", 0.0),
    "waitlist": ("access_licensing", -0.3),
    "approval": ("access_licensing", 0.0),
    "blocked": ("access_licensing", -0.4),
    "vpn": ("access_licensing", 0.0),
    # time saved
    "productive": ("time_saved", 0.5),
    "productivity": ("time_saved", 0.2),
    "timesaver": ("time_saved", 0.6),
    "time-saver": ("time_saved", 0.6),
    "hours": ("time_saved", 0.0),
    "minutes": ("time_saved", 0.0),
    "mins": ("time_saved", 0.0),
    "faster": ("time_saved", 0.4),
    "quicker": ("time_saved", 0.4),
    "efficient": ("time_saved", 0.4),
    "backlog": ("time_saved", 0.0),
    # job concerns
    "job": ("job_concerns", -0.1),
    "jobs": ("job_concerns", -0.2),
    "replace": ("job_concerns", -0.3),
    "replaced": ("job_concerns", -0.4),
    "replacing": ("job_concerns", -0.4),
    "redundant": ("job_concerns", -0.5),
    "redundancy": ("job_concerns", -0.5),
    "layoffs": ("job_concerns", -0.5),
    "layoff": ("job_concerns", -0.5),
    "deskilling": ("job_concerns", -0.4),
    "career": ("job_concerns", -0.1),
    "headcount": ("job_concerns", -0.4),
    "obsolete": ("job_concerns", -0.5),
    "monitored": ("job_concerns", -0.4),
    "monitoring": ("job_concerns", -0.3),
    "surveillance": ("job_concerns", -0.5),
    "role": ("job_concerns", 0.0),
    "fair": ("job_concerns", 0.0),
    "unfair": ("job_concerns", -0.4),
    "juniors": ("job_concerns", 0.0),
    "threat": ("job_concerns", -0.3),
    # more of each theme, as people say it at work
    "tidy": ("output_quality", 0.3),
    "polished": ("output_quality", 0.4),
    "sloppy": ("output_quality", -0.4),
    "buzzwords": ("output_quality", -0.3),
    "citation": ("output_quality", 0.0),
    "citations": ("output_quality", 0.0),
    "write-ups": ("output_quality", 0.0),
    "write-up": ("output_quality", 0.0),
    "produces": ("output_quality", 0.0),
    "produced": ("output_quality", 0.0),
    "factual": ("output_quality", 0.2),
    "errors": ("output_quality", -0.3),
    "snappier": ("speed", 0.5),
    "speedy": ("speed", 0.4),
    "slowly": ("speed", -0.4),
    "delay": ("speed", -0.4),
    "delays": ("speed", -0.4),
    "delayed": ("speed", -0.3),
    "spinner": ("speed", -0.3),
    "thinking": ("speed", 0.0),
    "maze": ("ease_of_use", -0.5),
    "settings": ("ease_of_use", 0.0),
    "menu": ("ease_of_use", 0.0),
    "shortcut": ("ease_of_use", 0.1),
    "unintuitive": ("ease_of_use", -0.5),
    "clicky": ("ease_of_use", -0.3),
    "privileged": ("trust_safety", -0.2),
    "nda": ("trust_safety", -0.1),
    "ndas": ("trust_safety", -0.1),
    "dpo": ("trust_safety", 0.0),
    "tenant": ("trust_safety", 0.0),
    "infosec": ("trust_safety", -0.1),
    "data": ("trust_safety", 0.0),
    "contracts": ("trust_safety", 0.0),
    "guidance": ("training", 0.0),
    "playbook": ("training", 0.1),
    "webinar": ("training", 0.0),
    "editor": ("workflow_fit", 0.0),
    "retyping": ("workflow_fit", -0.5),
    "re-typing": ("workflow_fit", -0.5),
    "system": ("workflow_fit", 0.0),
    "systems": ("workflow_fit", 0.0),
    "teams": ("workflow_fit", 0.0),
    "zoom": ("workflow_fit", 0.0),
    "slack": ("workflow_fit", 0.0),
    "sharepoint": ("workflow_fit", 0.0),
    "slotted": ("workflow_fit", 0.4),
    "month-end": ("workflow_fit", 0.0),
    "mfa": ("access_licensing", -0.2),
    "2fa": ("access_licensing", -0.2),
    "locked": ("access_licensing", -0.3),
    "provisioned": ("access_licensing", 0.2),
    "onboarded": ("access_licensing", 0.1),
    # feelings with no theme of their own
    "helped": ("", 0.4),
    "helps": ("", 0.3),
    "gold": ("", 0.5),
    "sorted": ("", 0.3),
    "faff": ("", -0.3),
    "smoothest": ("", 0.5),
    "smooth": ("", 0.4),
    "smoothly": ("", 0.4),
    "painless": ("", 0.4),
    "annoying": ("", -0.4),
    "pain": ("", -0.4),
    "meh": ("", -0.3),
    "lifesaver": ("", 0.6),
    "game-changer": ("", 0.6),
    "hassle": ("", -0.3),
    "gave": ("", 0.0),
    "useless": ("", -0.5),
}

# Phrases the word list cannot see: (pattern, theme, feeling, whether a "not" before the
# phrase turns its feeling round). Idioms that carry their own negation are not negatable.
_PHRASES: list[tuple[re.Pattern[str], str, float, bool]] = [
    (re.compile(p, re.I), theme, value, negatable)
    for p, theme, value, negatable in [
        # output quality
        (
            r"\bfirst pass\b|\bmatch(?:es|ed)? the (?:ledger|data|source|numbers)\b",
            "output_quality",
            0.3,
            True,
        ),
        (r"\b(?:invented|fabricated) (?:a |an |the )?\w+", "output_quality", -0.6, False),
        (r"\bsounded (?:lovely|great|good|fine) but\b", "output_quality", -0.3, False),
        (
            r"\bmade? (?:\w+ ){0,2}up\b|\bmakes? (?:\w+ ){0,2}up\b|\bmaking (?:\w+ ){0,2}up\b",
            "output_quality",
            -0.6,
            False,
        ),
        (r"\b(?:made|makes|making) stuff\b|\bout of thin air\b", "output_quality", -0.5, False),
        (r"\bspot on\b|\bon point\b|\bedge cases\b", "output_quality", 0.4, True),
        (
            r"\b(?:good|great|solid|decent|excellent|better|brilliant) (?:first )?(?:drafts?|answers?|summar\w*|code|output|suggestions?|results?|replies|reply|translations?)\b",
            "output_quality",
            0.5,
            True,
        ),
        (
            r"\b(?:bad|poor|weird|useless|wrong|worse) (?:drafts?|answers?|summar\w*|code|output|suggestions?|results?|replies|reply|translations?)\b",
            "output_quality",
            -0.5,
            True,
        ),
        (
            r"\bcaught (?:it|them|this) in review\b|\bhad to (?:fix|rewrite|redo|correct)\b|\bout of date\b",
            "output_quality",
            -0.4,
            False,
        ),
        # speed
        (
            r"\btakes? (?:like |about |around )?\d+\+? ?(?:s|secs?|seconds|mins?|minutes) to\b|\bthinking dots\b",
            "speed",
            -0.4,
            False,
        ),
        (
            r"\btim(?:es?|ed|ing) ?out\b|\btook (?:ages|forever|minutes)\b|\bkeeps? (?:loading|spinning)\b",
            "speed",
            -0.6,
            False,
        ),
        (
            r"\b(?:waiting|wait|waited) (?:\d+\+? ?(?:s|secs?|seconds|mins?|minutes)|(?:for|on) (?:it|the (?:tool|bot|ai|answer|response)))\b",
            "speed",
            -0.5,
            False,
        ),
        # ease of use
        (r"\bdead (?:simple|easy)\b|\bone click\b|\bcould use it\b", "ease_of_use", 0.5, False),
        (
            r"\btook me (?:\w+ )?(?:goes|tries|attempts)\b|\bcouldn'?t find\b",
            "ease_of_use",
            -0.5,
            False,
        ),
        (
            r"\bhard to (?:use|find|navigate|figure)\b|\btoo many (?:clicks|steps)\b",
            "ease_of_use",
            -0.5,
            True,
        ),
        (
            r"\beasy to (?:use|pick up|get started)\b|\bjust works\b|\bfirst try\b",
            "ease_of_use",
            0.5,
            True,
        ),
        # trust and safety
        (
            r"\b(?:customer|client|patient|personal|company|internal|salary|confidential) (?:data|info|information|records|details|figures)\b|\bdata protection\b",
            "trust_safety",
            -0.2,
            False,
        ),
        (
            r"\b(?:are|is|am|were) we (?:even )?allowed\b|\bnot sure (?:if |whether )?(?:it'?s |we'?re |i'?m )?(?:allowed|safe|ok)\b|\bwho (?:else )?sees\b",
            "trust_safety",
            -0.4,
            False,
        ),
        (
            r"\b(?:don'?t|do not|can'?t|cannot) trust\b|\bdouble[- ]check\w*\b|\bfact[- ]check\w*\b|\bre-?check\w*\b",
            "trust_safety",
            -0.4,
            False,
        ),
        (
            r"\bsign(?:ed|ing)? (?:it )?off\b|\bsign-off\b|\bgreen ?light\w*\b",
            "trust_safety",
            0.4,
            True,
        ),
        (r"\bcan'?t use it (?:on|for|with)\b", "trust_safety", -0.5, False),
        # training and know-how
        (
            r"\bhow to (?:use|prompt|ask|get|give)\b|\bnobody (?:showed|told|explained)\b|\bnot sure how\b|\bfigur\w* out\b",
            "training",
            0.0,
            False,
        ),
        (
            r"\b(?:don'?t|dont|do not) (?:\w+ )?know (?:what|how) to\b|\bno idea (?:what|how)\b",
            "training",
            -0.5,
            False,
        ),
        (
            r"\b(?:more|some|a few|better) (?:examples|exmaples|training|guidance|tips)\b",
            "training",
            -0.2,
            False,
        ),
        (r"\bcheat ?sheet\b|\btaught me\b|\b1:1\b|\bpairing\b", "training", 0.3, False),
        # workflow fit
        (
            r"\b(?:right |built )?inside (?:the |my |our )?(?:editor|ide|inbox|crm|browser)\b|\bnever leave\b",
            "workflow_fit",
            0.4,
            False,
        ),
        (
            r"\bno way to (?:get|export|move|send|push)\b|\bwithout (?:retyping|re-typing|copying)\b|\bcan'?t join\b|\bdon'?t bother\b",
            "workflow_fit",
            -0.5,
            False,
        ),
        (
            r"\bcopy(?:ing)? (?:and |& |n )?past\w*\b|\bcopy[- ]past\w*\b|\bback and forth between\b|\b(?:switch|switching|jump|jumping) between\b",
            "workflow_fit",
            -0.4,
            False,
        ),
        (
            r"\bdoesn'?t (?:fit|integrate|plug)\b|\bnot (?:built|made) for (?:our|my)\b",
            "workflow_fit",
            -0.5,
            False,
        ),
        (
            r"\bfits? (?:right )?(?:in|into|with)? ?(?:how|our|my)\b|\b(?:dropped|slots?|plugged) (?:straight |right )?into\b",
            "workflow_fit",
            0.4,
            True,
        ),
        (r"\bgets? in (?:the|my|our) way\b", "workflow_fit", -0.5, True),
        # access and licensing
        (
            r"\bkicks? (?:me|us) out\b|\blogs? (?:me|us) out\b|\bsoftware request\b|\bset (?:me |us )?up\b",
            "access_licensing",
            -0.1,
            False,
        ),
        (
            r"\b(?:no|without an?|don'?t have an?|still no|waiting for an?) (?:licen[cs]e|seat|account|access|login)\b|\bcan'?t (?:log ?in|sign ?in|get in|access)\b|\bcan'?t get (?:a |an |my )?(?:licen[cs]e|seat|account|access|login)\b|\blocked out\b|\blost access\b",
            "access_licensing",
            -0.6,
            False,
        ),
        (
            r"\bit (?:ticket|team|department|dept)\b|\bsign[- ]?in\b|\blog(?:ged)?[- ]?in\b|\breassigned\b",
            "access_licensing",
            0.0,
            False,
        ),
        # time saved
        (
            r"\bnot convinced (?:i'?m |we'?re |it'?s )?(?:any )?(?:quicker|faster|saving)\b|\bany quicker\b",
            "time_saved",
            -0.5,
            False,
        ),
        (
            r"\bknocks? (?:an? |\d+ )?(?:hour|hours|minutes|mins|day)s? off\b",
            "time_saved",
            0.5,
            False,
        ),
        (
            r"\bsav(?:e|es|ed|ing) (?:me |us |them |my team )?(?:\w+ ){0,3}(?:time|hours?|minutes?|mins?|an hour|a day|days)\b|\btime[- ]?saver\b",
            "time_saved",
            0.6,
            True,
        ),
        (
            r"\b(?:an?|one|two|three|half an?|\d+) (?:extra )?(?:hours?|hrs?|minutes?|mins?)\b",
            "time_saved",
            0.1,
            False,
        ),
        (
            r"\bhalf the time\b|\bfreed up\b|\bgot (?:through|thru)\b|\bcut (?:\w+ ){0,3}(?:time|in half)\b|\bin no time\b|\bgives? me back\b|\bin one (?:go|sitting)\b",
            "time_saved",
            0.5,
            True,
        ),
        (
            r"\bwaste of time\b|\bno time saved\b|\btakes? (?:\w+ )?longer\b|\b(?:just )?as long\b|\bslower than doing it myself\b|\b(?:could'?ve|could have|would'?ve) (?:just )?(?:done|written) it myself\b|\bgave up\b",
            "time_saved",
            -0.6,
            False,
        ),
        # job concerns
        (
            r"\b(?:replace|replacing|replaced) (?:us|me|my|our|people|staff|agents|the)\b|\bmy (?:job|role)\b|\bour (?:jobs|roles)\b|\bfewer (?:of us|people|staff)\b",
            "job_concerns",
            -0.5,
            False,
        ),
        (
            r"\b(?:managers?|management|boss) (?:\w+ ){0,2}(?:watch\w*|track\w*|monitor\w*|check\w*|spy\w*|see)\b|\bbeing watched\b|\bperformance reviews?\b|\busage stats\b",
            "job_concerns",
            -0.5,
            False,
        ),
        (
            r"\b(?:forget|forgetting|not learning|stop learning|lose|losing) (?:how to|to \w+|the skill)\b",
            "job_concerns",
            -0.4,
            False,
        ),
        (r"\bboring bits\b|\bgrunt work\b|\bdrudge\w*\b", "time_saved", 0.4, False),
    ]
]

_NEGATIONS = {
    "not",
    "no",
    "never",
    "hardly",
    "barely",
    "isn't",
    "isnt",
    "wasn't",
    "wasnt",
    "don't",
    "dont",
    "doesn't",
    "doesnt",
    "didn't",
    "didnt",
    "can't",
    "cant",
    "won't",
    "wont",
    "nothing",
}
_TOKEN = re.compile(r"[a-z][a-z'’-]*")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_CONTRAST = re.compile(r"\s*\b(?:but|though|although|however|except)\b\s*", re.I)
# Compounds that VADER would misread word by word ("cheat" in "cheat sheet").
_COMPOUNDS = [(re.compile(r"\bcheat[ -]sheets?\b", re.I), "cheatsheet")]
_FUZZY_MIN_LENGTH = 6
_LABEL_MARGIN = 0.1
_MIXED = 0.25
_NOTHING = re.compile(
    r"^\W*(?:no|nope|nah|nothing|none|n/?a|all good|not really|nothing (?:else|more)|that'?s (?:it|all)|no(?:thing)? to add)\W*$",
    re.I,
)


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=4096)
def _word(token: str) -> tuple[str, float] | None:
    """The theme and feeling of a token, allowing a typo or two in longer words."""
    token = token.replace("’", "'")
    if token in _WORDS:
        return _WORDS[token]
    if len(token) < _FUZZY_MIN_LENGTH:
        return None
    close = difflib.get_close_matches(token, _WORDS.keys(), n=1, cutoff=0.84)
    return _WORDS[close[0]] if close else None


@dataclass
class _Signals:
    themes: dict[str, float]
    domain: list[float]


def _signals(text: str) -> _Signals:
    """Themes (with weights) and domain feelings in `text`, with negation flipping feelings."""
    themes: dict[str, float] = {}
    domain: list[float] = []
    tokens = _TOKEN.findall(text.lower())
    for index, token in enumerate(tokens):
        found = _word(token)
        if found is None:
            continue
        theme, value = found
        if theme:
            themes[theme] = themes.get(theme, 0.0) + 1.0
        if value:
            window = tokens[max(0, index - 4) : index]
            domain.append(-value * 0.7 if _NEGATIONS.intersection(window) else value)
    for pattern, theme, value, negatable in _PHRASES:
        for match in pattern.finditer(text):
            themes[theme] = themes.get(theme, 0.0) + 1.5
            if not value:
                continue
            before = _TOKEN.findall(text[max(0, match.start() - 25) : match.start()].lower())[-3:]
            domain.append(-value * 0.7 if negatable and _NEGATIONS.intersection(before) else value)
    return _Signals(themes=themes, domain=domain)


def _segments(text: str) -> list[tuple[str, float]]:
    """Clauses with their weight. As in VADER, what follows a "but" counts more than what
    precedes it ("slow at times, but it saves me hours" is a positive reply)."""
    segments = []
    for sentence in _SENTENCE.split(text):
        parts = [part.strip() for part in _CONTRAST.split(sentence)]
        for index, part in enumerate(parts):
            if not part:
                continue
            last = index == len(parts) - 1
            segments.append((part, 1.0 if len(parts) == 1 else 1.5 if last else 0.5))
    return segments


def _clause_score(clause: str) -> float:
    """A clause's feeling: VADER's compound plus the clause's domain feelings."""
    score = _vader().polarity_scores(clause)["compound"] + sum(_signals(clause).domain)
    return max(-1.0, min(1.0, score))


def _label(score: float, clauses: list[float]) -> str:
    if clauses and max(clauses) >= _MIXED and min(clauses) <= -_MIXED:
        return "mixed"
    if score > _LABEL_MARGIN:
        return "positive"
    if score < -_LABEL_MARGIN:
        return "negative"
    return "neutral"


def _normalise(text: str) -> str:
    for pattern, replacement in _COMPOUNDS:
        text = pattern.sub(replacement, text)
    return text


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sentiment_of(text: str) -> tuple[float, str]:
    """Sentiment on -1..1 and its label for `text`: the weighted mean of the clauses that carry
    a feeling, so that neutral clauses neither dilute it nor many clauses pile it up."""
    scored = [
        (_clause_score(clause), weight)
        for clause, weight in _segments(_normalise(text))
        # "no" or "that's all" in answer to "anything else?" is not a feeling about the tool.
        if not _NOTHING.match(clause)
    ]
    feeling = [(value, weight) for value, weight in scored if abs(value) > 0.05]
    if not feeling:
        return 0.0, "neutral"
    score = sum(value * weight for value, weight in feeling) / sum(weight for _, weight in feeling)
    return round(score, 3), _label(score, [value for value, _ in scored])


def themes_of(text: str, *, most: int = 3) -> list[str]:
    """Themes of `text`, strongest first; ["other"] when none is found."""
    weights = _signals(_normalise(text)).themes
    ranked = sorted(weights, key=lambda theme: (-weights[theme], theme))
    return ranked[:most] or ["other"]


def _summary(label: str, themes: list[str]) -> str:
    feeling = {
        "positive": "Positive",
        "negative": "Critical",
        "mixed": "Mixed feelings",
        "neutral": "Neutral",
    }[label]
    named = [theme_label(t) for t in themes if t != "other"][:2]
    return f"{feeling} about {' and '.join(named)}." if named else f"{feeling} overall."


def analyze(text: str, *, kind: str = "comment") -> TextAnalysis:
    """Analyse scrubbed `text` locally."""
    score, label = sentiment_of(text)
    themes = themes_of(text)
    blockers: list[str] = []
    wins: list[str] = []
    if kind == "checkin":
        for sentence in _sentences(text):
            sentence_score, _ = sentiment_of(sentence)
            if sentence_score <= -0.2 and len(blockers) < 3:
                blockers.append(_short(sentence))
            elif sentence_score >= 0.2 and len(wins) < 3:
                wins.append(_short(sentence))
    return TextAnalysis(
        sentiment=score,
        label=label,
        themes=themes,
        summary=_summary(label, themes) if kind == "checkin" else None,
        blockers=blockers,
        wins=wins,
        analyzer=NAME,
    )


# -- follow-up questions ----------------------------------------------------------------------

_BANK: dict[tuple[str, str], list[str]] = {
    ("output_quality", "negative"): [
        "Could you describe one answer that was off, without names or customer details?",
        "When the output was wrong, how did you notice, and what did you do instead?",
    ],
    ("output_quality", "positive"): [
        "What kind of task gave the best results, so others could try the same?",
    ],
    ("speed", "negative"): [
        "When it was slow, what were you waiting on: the first answer, or going back and forth?",
    ],
    ("ease_of_use", "negative"): [
        "Which step felt clumsiest, and what would make it easier?",
    ],
    ("trust_safety", "negative"): [
        "What would you need to know to feel safe using it for that work?",
    ],
    ("trust_safety", "positive"): [
        "What made you comfortable relying on it?",
    ],
    ("training", "negative"): [
        "What would help most: a short how-to, example prompts, or someone to ask?",
    ],
    ("workflow_fit", "negative"): [
        "Where in your day does it get in the way, and what would fit better?",
    ],
    ("workflow_fit", "positive"): [
        "Which part of your workflow does it fit best?",
    ],
    ("access_licensing", "negative"): [
        "What is stopping you getting access: a licence, a login problem, or something else?",
    ],
    ("time_saved", "positive"): [
        "Roughly how much time did that save, and on which task?",
    ],
    ("time_saved", "negative"): [
        "Where did it cost you time instead of saving it?",
    ],
    ("job_concerns", "negative"): [
        "Thanks for saying so. What would make this feel fairer or safer for your role?",
    ],
}
_GENERAL = {
    "positive": "What's one example where it helped that others on your team could copy?",
    "negative": "What's the one thing that would make it more useful for you?",
    "mixed": "If you could fix one thing about it, what would it be?",
    "neutral": "Could you tell me a bit more about how you used it this week?",
}
_LAST = "Last one: if you could change one thing about how the pilot is run, what would it be?"


def followup(turns: list[Turn], analysis: TextAnalysis, number: int, *, seed: int) -> str | None:
    """The next question from the bank, keyed by the latest reply's themes and feeling.

    None when the person has nothing more to say, or after two follow-ups.
    """
    replies = [turn.text for turn in turns if turn.author == "participant"]
    if number > 2 or not replies or _NOTHING.match(replies[-1]):
        return None
    asked = {turn.text for turn in turns if turn.author == "bot"}
    latest = analyze(replies[-1])
    feeling = "negative" if latest.label in ("negative", "mixed") else latest.label
    for theme in latest.themes:
        options = [q for q in _BANK.get((theme, feeling), []) if q not in asked]
        if options:
            return options[seed % len(options)]
    general = _GENERAL[latest.label]
    if number == 1 and general not in asked:
        return general
    return _LAST if _LAST not in asked else None


class LocalAnalyzer:
    """The default analyzer; nothing leaves the machine."""

    name = NAME

    def analyze(self, text: str, *, kind: str = "comment") -> TextAnalysis:
        return analyze(text, kind=kind)

    def followup(
        self, turns: list[Turn], analysis: TextAnalysis, number: int, *, seed: int
    ) -> FollowUp | None:
        question = followup(turns, analysis, number, seed=seed)
        return FollowUp(question) if question else None
