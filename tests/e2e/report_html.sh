#!/usr/bin/env bash
# report.html in a real browser. The page that tests/e2e/report.sh's `stilts report` wrote (its
# folder is $3) is copied alone into this test's folder, so that nothing beside it can serve it,
# and headless Chromium opens it. From the DOM Chromium built: every table and every figure of
# report.md is there, the figures inline with their captions, a known cell has its value, and
# nothing refers outside the page; its screenshot, report.png here, is a real picture of the
# page, not a blank one.
source "$(dirname "$0")/lib.sh"
REPORT=$3

command -v chromium >/dev/null ||
  fail "chromium not found: this test opens report.html in headless Chromium; install it with" \
    "launch/install_deps.sh (Debian: apt-get install chromium)"
$PY -c "import PIL" 2>/dev/null ||
  fail "python3-pil not found: this test reads the screenshot's pixels with it; install it with" \
    "launch/install_deps.sh (Debian: apt-get install python3-pil)"

cp "$REPORT/report.html" "$WORK/report.html"
# --no-sandbox: CI and the developers' machines run as root, where Chromium's sandbox will not
# start. A profile folder of the test's own keeps it from a user's profile.
browser() {
  chromium --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/profile" "$@" \
    "file://$WORK/report.html" 2>>"$WORK/chromium.log"
}
browser --dump-dom >"$WORK/dom.html" ||
  fail "chromium --dump-dom failed: $(tail -5 "$WORK/chromium.log")"
browser --screenshot="$WORK/report.png" --window-size=1280,2400 >/dev/null ||
  fail "chromium --screenshot failed: $(tail -5 "$WORK/chromium.log")"

# report.sh's runs: test-tiny's xnli scores without intermediate stage over de, ar and sw are
# 60 and 62 for its two seeds.
KNOWN="61.00 ± 1.41 [60.00, 62.00] (n=2)"
$PY - "$WORK/dom.html" "$REPORT/report.md" "$KNOWN" <<'PY' || fail "wrong page: $WORK/dom.html"
import re
import sys
from html.parser import HTMLParser

dom_path, markdown_path, known_cell = sys.argv[1:]


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.references, self.cells = {}, set(), [], []
        self.cell = None

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name == "id":
                self.ids.add(value)
            if name in ("src", "href", "xlink:href"):
                self.references.append(value or "")
        if tag == "td":
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self.cells.append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


dom_text = open(dom_path, encoding="utf-8").read()
dom = Dom()
dom.feed(dom_text)
markdown = open(markdown_path, encoding="utf-8").read().splitlines()
tables = sum(line.startswith("|---") for line in markdown)
figures = sum(line.startswith("![") for line in markdown)
count = lambda tag: dom.tags.get(tag, 0)

assert tables > 0 and count("table") == tables, f"{count('table')} tables, report.md {tables}"
assert figures > 0 and count("svg") == figures, f"{count('svg')} svg, report.md {figures} figures"
assert count("figure") == count("figcaption") == figures, dom.tags
assert count("path") > figures, f"the figures draw {count('path')} paths"
assert known_cell in dom.cells, f"no cell '{known_cell}'"
for tag in ("img", "script", "link", "iframe", "object", "embed"):
    assert count(tag) == 0, f"{count(tag)} <{tag}> elements"
for target in dom.references:
    inside = target.startswith("data:") or (target.startswith("#") and target[1:] in dom.ids)
    assert inside, f"a reference outside the page or to no element: {target[:80]}"
assert not re.search(r"https?:", dom_text), "the page names an address"
print(f"ok: {tables} tables and {figures} inline figures rendered, {len(dom.references)} "
      f"references all inside the page")
PY

$PY - "$WORK/report.png" <<'PY' || fail "the screenshot $WORK/report.png is no picture of the page"
import sys
from PIL import Image

image = Image.open(sys.argv[1])
image.load()
assert image.format == "PNG" and image.size == (1280, 2400), (image.format, image.size)
pixels = image.width * image.height
colours = image.convert("RGB").getcolors(maxcolors=pixels)
background = max(colours)[0] / pixels
# A blank page is one colour; a rendered one has text, table rules and shading on it.
assert len(colours) > 1 and background < 0.99, f"{len(colours)} colours, {background:.1%} one"
print(f"ok: screenshot {image.width}x{image.height}, {len(colours)} colours, the background "
      f"{background:.0%}")
PY
rm -rf "$WORK/profile"
echo "PASS"
