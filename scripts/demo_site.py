#!/usr/bin/env python3
"""Writes a small web site for the spmd-crawl demo: a book's table of contents, chapters and
sections that link to each other (cycles), an index page, a broken link, an off-site link (not
followed) and a plain-text file.

  demo_site.py DIRECTORY
"""
import os
import sys

CHAPTERS = ["Parallel design", "Pipelining", "Threads", "Processes", "Parallel Python",
            "Celery", "asyncio"]


def page(title, links, text=""):
    items = "".join(f'<li><a href="{href}">{label}</a></li>\n' for href, label in links)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{text}</p><ul>{items}</ul></body></html>\n")


def main():
    root = sys.argv[1]
    os.makedirs(os.path.join(root, "chapters"), exist_ok=True)
    toc = [(f"chapters/ch{i + 1}.html", name) for i, name in enumerate(CHAPTERS)]
    toc += [("index-of-terms.html", "Index"), ("notes.txt", "Notes (text)"),
            ("https://example.org/errata", "Errata (elsewhere)")]
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write(page("Parallel Programming, the spmdkit way", toc))
    for i, name in enumerate(CHAPTERS):
        links = [("../index.html", "Contents")]
        if i > 0:
            links.append((f"ch{i}.html", "Previous"))
        if i + 1 < len(CHAPTERS):
            links.append((f"ch{i + 2}.html", "Next"))
        links += [(f"ch{i + 1}-s{j}.html", f"Section {i + 1}.{j}") for j in (1, 2, 3)]
        with open(os.path.join(root, "chapters", f"ch{i + 1}.html"), "w") as f:
            f.write(page(f"Chapter {i + 1}: {name}", links))
        for j in (1, 2, 3):
            section_links = [(f"ch{i + 1}.html", "Up"), ("../index-of-terms.html#t", "Terms")]
            if i == 3 and j == 2:
                section_links.append(("ch4-s9.html", "A section that does not exist"))
            with open(os.path.join(root, "chapters", f"ch{i + 1}-s{j}.html"), "w") as f:
                f.write(page(f"Section {i + 1}.{j} of {name}", section_links))
    terms = [(f"chapters/ch{i + 1}.html", name.lower()) for i, name in enumerate(CHAPTERS)]
    with open(os.path.join(root, "index-of-terms.html"), "w") as f:
        f.write(page("Index of terms", terms))
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("Notes: domain decomposition, pipelines, master-worker, reductions.\n")
    print(f"demo site: {root}")


if __name__ == "__main__":
    main()
