#!/usr/bin/env python3
"""Writes a Git repository of N pipelines x C commits for benchmarks and depth tests, through
`git fast-import` (seconds for 20,000 commits).

The first commit adds pipelines/p<i>.yaml (stages dev -> staging, steps `true`, source paths
teams/p<i>/**) and teams/p<i>/data.txt for every pipeline. Each further commit changes one file:
  --touch round-robin   teams/p<k % N>/data.txt (every pipeline keeps getting candidates)
  --touch noise         noise/counter.txt (no pipeline's paths: their only candidate is commit 1)

  generate-repo.py --pipelines 1000 --commits 20000 --out /tmp/repo.git
  --sparse: each stage has `checkout: {paths: ["teams/p<i>/**"]}` (a checkout of one team's files)
  --prod: a third stage, prod, after staging (automatic in the spec: an agent's `protect` floor may hold it)
"""
import argparse
import os
import subprocess
import sys

SPEC = """apiVersion: pipeline-agent/v1
kind: Pipeline
metadata: {{name: p{index}}}
spec:
  source: {{branch: main, paths: ["teams/p{index}/**"]}}
  stages:
    - {{name: dev,{checkout} steps: [{{name: deploy, run: "true"}}]}}
    - {{name: staging, from: dev,{checkout} steps: [{{name: deploy, run: "true"}}]}}
"""
SPARSE = ' checkout: {{paths: ["teams/p{index}/**"]}},'
PROD = """    - {{name: prod, from: staging,{checkout} steps: [{{name: deploy, run: "true"}}]}}
"""



def blob(out, path, text):
    data = text.encode()
    out.write(b"M 100644 inline " + path.encode() + b"\n")
    out.write(b"data %d\n" % len(data) + data + b"\n")


def commit(out, number, message, files):
    stamp = 1_700_000_000 + number * 60
    out.write(b"commit refs/heads/main\n")
    out.write(b"author Generator <gen@example.com> %d +0000\n" % stamp)
    out.write(b"committer Generator <gen@example.com> %d +0000\n" % stamp)
    body = message.encode()
    out.write(b"data %d\n" % len(body) + body + b"\n")
    for path, text in files:
        blob(out, path, text)
    out.write(b"\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipelines", type=int, default=10)
    parser.add_argument("--commits", type=int, default=100, help="commits after the first")
    parser.add_argument("--touch", choices=["round-robin", "noise"], default="round-robin")
    parser.add_argument(
        "--sparse", action="store_true", help="stages check out only their team's files (checkout.paths)")
    parser.add_argument("--prod", action="store_true", help="a third stage, prod, after staging")
    parser.add_argument("--out", required=True, help="bare repository to create (must not exist)")
    args = parser.parse_args()
    if os.path.exists(args.out):
        sys.exit(f"{args.out} exists; choose a new path")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", args.out], check=True)
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=args.out, stdin=subprocess.PIPE)
    out = importer.stdin
    first = []
    for index in range(args.pipelines):
        checkout = SPARSE.format(index=index) if args.sparse else ""
        spec = SPEC.format(index=index, checkout=checkout)
        if args.prod:
            spec += PROD.format(checkout=checkout)
        first.append((f"pipelines/p{index}.yaml", spec))
        first.append((f"teams/p{index}/data.txt", "0\n"))
    commit(out, 0, "add pipelines", first)
    for number in range(1, args.commits + 1):
        if args.touch == "noise":
            commit(out, number, f"noise {number}", [("noise/counter.txt", f"{number}\n")])
        else:
            index = number % args.pipelines
            commit(out, number, f"change p{index} ({number})", [(f"teams/p{index}/data.txt", f"{number}\n")])
    out.close()
    if importer.wait() != 0:
        sys.exit("git fast-import failed")


if __name__ == "__main__":
    main()
