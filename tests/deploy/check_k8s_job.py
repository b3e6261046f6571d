#!/usr/bin/env python3
"""Checks deploy/k8s/fleet-job.yaml (docs/fleet.md): a valid batch/v1 Indexed Job whose pods run
`probity fleet task` for their own completion index against the store, with retries per index,
and whose flags are ones `probity fleet task --help` accepts."""
import subprocess
import sys

import yaml


def fail(msg):
    print(f"check_k8s_job: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    path, probity = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if len(docs) != 1:
        fail(f"expected one document, found {len(docs)}")
    job = docs[0]
    if job.get("apiVersion") != "batch/v1" or job.get("kind") != "Job":
        fail("not a batch/v1 Job")
    spec = job["spec"]
    if spec.get("completionMode") != "Indexed":
        fail("completionMode must be Indexed (one pod per task index)")
    for key in ("completions", "parallelism", "backoffLimitPerIndex"):
        if not isinstance(spec.get(key), int) or spec[key] < 1:
            fail(f"spec.{key} must be a positive integer")
    if spec["parallelism"] > spec["completions"]:
        fail("parallelism above completions")
    pod = spec["template"]["spec"]
    if pod.get("restartPolicy") != "Never":
        fail("restartPolicy must be Never (retries are per index)")
    (container,) = pod["containers"]
    argv = container["command"] + container["args"]
    if argv[1:3] != ["fleet", "task"]:
        fail(f"the pod must run `probity fleet task`, not {argv}")
    flags = {argv[i]: argv[i + 1] for i in range(3, len(argv) - 1) if argv[i].startswith("--")}
    if flags.get("--index") != "$(JOB_COMPLETION_INDEX)":
        fail("--index must be the pod's completion index")
    env = {e["name"] for e in container.get("env", [])}
    for name in ("JOB", "PROBITY_STORE"):
        if name not in env:
            fail(f"env {name} missing")
    if flags.get("--store") != "$(PROBITY_STORE)" or flags.get("--job") != "$(JOB)":
        fail("--store and --job must come from the environment")
    mounts = {m["name"] for m in container.get("volumeMounts", [])}
    volumes = {v["name"] for v in pod.get("volumes", [])}
    if not mounts <= volumes:
        fail(f"mounts without a volume: {mounts - volumes}")
    # Every flag the manifest passes is one `probity fleet task` accepts.
    helptext = subprocess.run([probity, "fleet", "task", "--help"], capture_output=True,
                              text=True, check=False).stdout
    for flag in flags:
        if flag not in helptext:
            fail(f"probity fleet task does not accept {flag}")
    print(f"check_k8s_job: {path}: ok ({spec['completions']} tasks, {spec['parallelism']} at once)")


if __name__ == "__main__":
    main()
