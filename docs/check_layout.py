"""Check the built HTML pages in a headless browser: nothing clipped, nothing too wide.

Run after the documentation build, from the repository root::

    python docs/check_layout.py                      # docs/_build/html, every page
    python docs/check_layout.py SITE --shots /tmp/shots

Each page is loaded at 1280 x 800 and 1920 x 1080 in headless Chromium
(playwright; ``pip install playwright``, then ``python -m playwright install
chromium`` or a system Chromium, found on the PATH or named by
``--chromium``). On each, an offender is:

* a ``pre``, ``table`` or ``img`` of the page's article whose content is
  wider than its box (``scrollWidth > clientWidth``) while the box has no
  horizontal scrollbar, or that reaches past a clipping ancestor, past the
  article's column or past the viewport without a scrolling ancestor
  between them;
* a link of a sidebar (the page's navigation, its table of contents) whose
  text is cut off;
* a sidebar that takes room on the screen while it holds no link (an empty
  section navigation).

The script prints each offender (page, viewport, what, how many pixels) and
exits with status 1 if there is any, 0 otherwise; it also counts the
code blocks and tables that scroll sideways in their own box (allowed, but
a reader must scroll to see their right edge). ``--shots DIR`` also
saves screenshots of the pages named by ``--shot-pages`` at both sizes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

VIEWPORTS = ((1280, 800), (1920, 1080))
SHOT_PAGES = ("user_guide.html", "api.html", "benchmarks.html")

# Runs in the page: a list of {what, detail} for each offender.
FIND_OFFENDERS = r"""
() => {
  const out = [];
  const px = (v) => Math.round(v);
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const clips = (el) => ['hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const text = (el.getAttribute('alt') || el.textContent || '').trim().replace(/\s+/g, ' ');
    return s + (text ? ' "' + text.slice(0, 60) + '"' : '');
  };
  const column = document.querySelector('.bd-article') || document.querySelector('main')
    || document.body;
  const colRight = column.getBoundingClientRect().right;
  const vw = document.documentElement.clientWidth;
  let scrolling = 0;
  for (const el of column.querySelectorAll('pre, table, img')) {
    if (!visible(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1 && scrolls(el)) scrolling += 1;
    if (el.scrollWidth > el.clientWidth + 1 && !scrolls(el) && el.tagName !== 'IMG') {
      out.push({what: name(el), detail: `content ${el.scrollWidth} px wide in a box of `
        + `${el.clientWidth} px without a scrollbar`});
      continue;
    }
    const right = el.getBoundingClientRect().right;
    let scrolled = false;
    for (let a = el.parentElement; a && a !== column.parentElement; a = a.parentElement) {
      const aRight = a.getBoundingClientRect().right;
      if (scrolls(a)) {
        scrolled = true;
        if (right > aRight + 1) scrolling += 1;
        break;
      }
      if (clips(a) && right > aRight + 1) {
        out.push({what: name(el), detail: `clipped by ${a.tagName.toLowerCase()}.`
          + `${[...a.classList].join('.')}: ${px(right - aRight)} px cut off`});
        scrolled = true;  // reported
        break;
      }
    }
    if (scrolled) continue;
    if (right > colRight + 1) {
      out.push({what: name(el), detail: `reaches ${px(right - colRight)} px past the column`});
    } else if (right > vw + 1) {
      out.push({what: name(el), detail: `reaches ${px(right - vw)} px past the viewport`});
    }
  }
  for (const bar of document.querySelectorAll('.bd-sidebar-primary, .bd-sidebar-secondary')) {
    if (!visible(bar)) continue;
    const r = bar.getBoundingClientRect();
    if (r.left >= vw) continue;  // drawer off screen
    const label = bar.className.includes('secondary') ? 'secondary sidebar' : 'primary sidebar';
    const links = [...bar.querySelectorAll('a')].filter(visible);
    if (!links.length) {
      out.push({what: label, detail: `no links, ${px(r.width)} px of the screen`});
      continue;
    }
    const barRight = Math.min(r.right, vw);
    for (const a of links) {
      const text = document.createRange();
      text.selectNodeContents(a);  // the text's extent, not the link's box
      const right = text.getBoundingClientRect().right;
      if (right > barRight + 1) {
        out.push({what: `${label} link "${a.textContent.trim()}"`,
          detail: `text reaches ${px(right - barRight)} px past the sidebar: cut off`});
      }
    }
  }
  return {offenders: out, scrolling, column: px(column.getBoundingClientRect().width)};
}
"""


def pages_of(site):
    """The HTML pages of the built site a reader reads (no search, index or sources)."""
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    return sorted(
        p
        for p in site.rglob("*.html")
        if p.name not in skip and not {"_static", "_sources", "_modules"} & set(p.parts)
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", nargs="?", default="docs/_build/html", type=Path)
    parser.add_argument("--chromium", help="a Chromium binary (default: playwright's, else PATH)")
    parser.add_argument("--shots", type=Path, help="folder for the screenshots")
    parser.add_argument("--shot-pages", nargs="*", default=list(SHOT_PAGES))
    args = parser.parse_args(argv)

    from playwright.sync_api import Error, sync_playwright

    site = args.site.resolve()
    pages = pages_of(site)
    if not pages:
        sys.exit(f"no HTML pages under {site}: build the documentation first")
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    offenders = scrolling = 0
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=args.chromium)
        except Error:
            system = shutil.which("chromium") or shutil.which("chromium-browser")
            if args.chromium or not system:
                raise
            browser = pw.chromium.launch(executable_path=system)
        for width, height in VIEWPORTS:
            page = browser.new_page(viewport={"width": width, "height": height})
            for path in pages:
                rel = path.relative_to(site).as_posix()
                page.goto(path.as_uri(), wait_until="load")
                found = page.evaluate(FIND_OFFENDERS)
                scrolling += found["scrolling"]
                for item in found["offenders"]:
                    offenders += 1
                    print(f"{rel} @{width}x{height}: {item['what']}: {item['detail']}")
                if args.shots and rel in args.shot_pages:
                    stem = rel.replace("/", "_").removesuffix(".html")
                    print(f"{rel} @{width}x{height}: article column {found['column']} px")
                    page.screenshot(path=str(args.shots / f"{stem}-{width}.png"))
            page.close()
        browser.close()
    print(
        f"{len(pages)} pages at {len(VIEWPORTS)} sizes: {offenders} offenders; "
        f"{scrolling} code blocks or tables wider than their column scroll in their box"
    )
    return 1 if offenders else 0


if __name__ == "__main__":
    sys.exit(main())
