#!/usr/bin/env python3
"""Debian package descriptions as a retrieval corpus (bench/retrieval.sh).

Reads `apt-cache dumpavail` and Translation-en files (apt-helper cat-file) on stdin and writes a tab-separated file: package name, one-line
summary, long description (its paragraphs joined, " ." lines as blank lines removed). Packages
without a long description, and later stanzas of a package already seen, are left out. Tabs
and newlines in the text become spaces.
"""
import sys


def flush(pkg, summary, body, seen, out):
    if pkg and summary and body and pkg not in seen:
        seen.add(pkg)
        text = " ".join(body).replace("\t", " ")
        out.write(f"{pkg}\t{summary.strip()}\t{text}\n")


def main():
    out = sys.stdout
    seen = set()
    pkg = summary = None
    body = []
    in_desc = False
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            flush(pkg, summary, body, seen, out)
            pkg = summary = None
            body = []
            in_desc = False
        elif line.startswith(" ") and in_desc:
            t = line.strip()
            if t != ".":
                body.append(t)
        elif line.startswith("Package:"):
            pkg = line.split(":", 1)[1].strip()
            in_desc = False
        elif line.startswith("Description:") or line.startswith("Description-en:"):
            summary = line.split(":", 1)[1].replace("\t", " ")
            in_desc = True
        else:
            in_desc = False
    flush(pkg, summary, body, seen, out)


if __name__ == "__main__":
    main()
