"""Rule-based detection of text that is not part of an article's facts.

Rules (each general, none tied to one source):

- ``headline_list``: a line that is a run of unrelated headlines, i.e. five or more '、'-separated
  items of headline length (median 8+, at most 60 characters, no sentence ending inside), or a
  "related articles" line.
- ``comments``: a reader-comment section, from a heading such as 网友看法 / 网友评论 / 读者评论 /
  "Reader comments" / "Comments" to the end of the document (or the next Markdown heading); also single
  lines shaped like "1、网友某某：…".
- ``disclaimer``: a short line (≤ 300 characters) with two or more disclaimer cues (版权, 不代表, 立场,
  侵权, 免责, 仅供参考, "do not represent", "all rights reserved", "disclaimer" …).
- ``byline``: a short line that only names the reporter or author ("记者 郑晨烨", "By Jane Doe").

Boilerplate is kept in the index but marked ``factual: false`` and left out of searches by default.
"""

from __future__ import annotations

import re
import statistics

from corpus.types import BoilerplateReason

_COMMENT_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:网友看法|网友评论|网友观点|网友热评|读者评论|读者留言|精彩评论|热门评论|评论区|用户评论|"
    r"reader comments?|readers'? comments?|comments?|user comments?)\s*[:：]?\s*$",
    re.IGNORECASE,
)
_COMMENT_LINE = re.compile(r"^\s*\d{1,3}\s*[、.．)]\s*(?:网友|读者|用户)\S{0,24}\s*[:：]")
_RELATED = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:相关阅读|相关文章|相关新闻|推荐阅读|延伸阅读|热门文章|热点推荐|"
    r"related (?:articles|stories|news|reading)|read more|you may also like|more from)\b",
    re.IGNORECASE,
)
_DISCLAIMER_CUES = re.compile(
    r"版权|不代表|立场|侵权|侵犯|免责|仅供参考|不构成|投资建议|转载|联系我们|联系删除|"
    r"disclaimer|all rights reserved|copyright|do(?:es)? not (?:necessarily )?(?:represent|reflect)|"
    r"views of the author|not investment advice|for reference only",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^\s*(?:(?:(?:本报|特约)?记者|作者|撰文)\s*[:：/]?\s*|(?:文|编辑|责编|责任编辑|来源)\s*[:：/]\s*"
    r"|(?:by|authors?|reporters?)(?:\s*[:：/]\s*|\s+))\S.{0,24}$",
    re.IGNORECASE,
)
_HEADLINE_SEP = re.compile(r"[、｜]")
_SENTENCE_END = re.compile(r"[。！？；]|[.!?;]\s")


def is_headline_list(line: str) -> bool:
    """True for a line that strings together unrelated headlines (an aggregator's "related" block)."""
    if _RELATED.match(line):
        return True
    raw_parts = _HEADLINE_SEP.split(line)
    if any(_SENTENCE_END.search(p) for p in raw_parts[:-1]):
        return False  # a sentence ends inside the list: prose that enumerates things, not a headline run
    parts = [p.strip(" 　。等.") for p in raw_parts]
    parts = [p for p in parts if p]
    return len(parts) >= 5 and statistics.median(len(p) for p in parts) >= 8 and max(len(p) for p in parts) <= 60


def is_disclaimer(line: str) -> bool:
    """True for a copyright/attribution/non-endorsement notice (two or more distinct cues)."""
    if len(line) > 300:
        return False
    cues = {m.group(0).lower() for m in _DISCLAIMER_CUES.finditer(line)}
    return len(cues) >= 2 or line.strip().lower().startswith(("disclaimer", "免责声明"))


def is_byline(line: str) -> bool:
    """True for a short line naming only the reporter or author."""
    stripped = line.strip()
    return len(stripped) <= 30 and bool(_BYLINE.match(stripped)) and not stripped.endswith(("。", ".", "！", "？"))


def classify_lines(lines: list[str]) -> list[BoilerplateReason | None]:
    """Label each line of a document body with a boilerplate reason, or None for content.

    Args:
        lines: The body split into lines (without line ends).

    Returns:
        One label per line.
    """
    labels: list[BoilerplateReason | None] = [None] * len(lines)
    in_comments = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if in_comments and stripped.startswith("#") and not _COMMENT_HEADING.match(stripped):
            in_comments = False
        if _COMMENT_HEADING.match(stripped):
            in_comments = True
        if not stripped:
            continue
        if is_disclaimer(stripped):
            labels[i] = "disclaimer"
        elif in_comments or _COMMENT_LINE.match(stripped):
            labels[i] = "comments"
        elif is_headline_list(stripped):
            labels[i] = "headline_list"
        elif is_byline(stripped):
            labels[i] = "byline"
    return labels
