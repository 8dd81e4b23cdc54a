"""Sphinx ``linkcheck`` settings for lmnotes, imported by ``docs/conf.py``.

They live in their own module so that ``tests/test_links.py`` can check this
exact configuration offline, against a small site served on 127.0.0.1: a good
link must come out *working*; a 404, a missing anchor and a refused port must
come out *broken*, within a bounded time.

An archived copy in ``references.bib`` is a dated Wayback Machine snapshot
(``https://web.archive.org/web/<14-digit timestamp>/<url>``), checked like any link.
When a host refuses automated clients outright, its links are listed in
:data:`REFUSING_HOSTS` with the reason and not checked; their archived copies still are.
"""

from __future__ import annotations

#: A browser's User-Agent, for hosts that answer 403 to anything that looks like a bot.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

#: Hosts that refuse automated clients whatever the headers, with the reason.
#: Keys are regular expressions matched against the start of each URL.
REFUSING_HOSTS: dict[str, str] = {
    r"https://medium\.com/": (
        "Medium serves its articles behind a Cloudflare bot check: automated clients get "
        "403 Forbidden or a JavaScript challenge, even with a browser User-Agent."
    ),
    r"https://([a-z]+\.)?stackexchange\.com/": (
        "Stack Exchange sites put Cloudflare bot detection in front of question pages in "
        "2025 (lycheeverse/lychee-action#294): 403 Forbidden for non-browser clients."
    ),
}

#: Request headers per host (scheme + host, or ``*`` for every other URL).
#: YouTube sends clients in the EU to a cookie-consent page (a redirect) and rate-limits
#: browser look-alikes; it answers a curl User-Agent directly (lycheeverse/lychee#1115).
REQUEST_HEADERS: dict[str, dict[str, str]] = {
    "https://www.youtube.com": {"User-Agent": "curl/8.11.1", "Accept": "*/*"},
    "https://web.archive.org": {"User-Agent": BROWSER_USER_AGENT},
    "https://cdn.openai.com": {"User-Agent": BROWSER_USER_AGENT},
    "*": {
        "User-Agent": BROWSER_USER_AGENT,
        "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "en",
    },
}

# -- The Sphinx settings (names as in the Sphinx documentation) ----------------

#: Seconds to wait for a server; the Wayback Machine is slow on a first look-up.
linkcheck_timeout = 30
#: Attempts per link before it is reported broken (a refused connection fails fast).
linkcheck_retries = 3
#: Parallel requests, kept low so that no host sees a burst.
linkcheck_workers = 4
#: On 429 without Retry-After, back off (60 s, then doubling) up to this many seconds,
#: then report the link broken rather than wait forever.
linkcheck_rate_limit_timeout = 120.0
#: A link that times out is broken, not silently "timeout".
linkcheck_report_timeouts_as_broken = True
#: Check ``#anchor`` parts of URLs ...
linkcheck_anchors = True
#: ... except where the page builds its anchors with JavaScript: GitHub renders
#: ``#L10`` line anchors and heading anchors (``user-content-…``) client-side.
linkcheck_anchors_ignore_for_url = [r"https://github\.com/"]
linkcheck_ignore = list(REFUSING_HOSTS)
linkcheck_request_headers = REQUEST_HEADERS
#: Redirects that are expected; any other redirect is reported as a warning, so that
#: a moved page (or an issue URL that is really a pull request) gets noticed.
linkcheck_allowed_redirects = {
    # A DOI resolves to the publisher's page.
    r"https://doi\.org/.*": r"https://.*",
    # A dated snapshot may redirect to the same page captured a few seconds apart.
    r"https://web\.archive\.org/web/\d{14}/.*": r"https://web\.archive\.org/web/\d{14}/.*",
}

__all__ = [
    "BROWSER_USER_AGENT",
    "REFUSING_HOSTS",
    "REQUEST_HEADERS",
    "linkcheck_allowed_redirects",
    "linkcheck_anchors",
    "linkcheck_anchors_ignore_for_url",
    "linkcheck_ignore",
    "linkcheck_rate_limit_timeout",
    "linkcheck_report_timeouts_as_broken",
    "linkcheck_request_headers",
    "linkcheck_retries",
    "linkcheck_timeout",
    "linkcheck_workers",
]
