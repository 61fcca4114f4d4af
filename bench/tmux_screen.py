#!/usr/bin/env python3
"""What a user sees, timed from outside: for dashboards without a trace hook (oxker), and
for berth measured the same way beside them. Everything goes through a private tmux
server (tmux -L SOCKET, no config); the screen is read with capture-pane, so each figure
includes tmux's delivery and one capture (a few ms): compare the two sides, not with the
trace figures.

  tmux_screen.py first SOCKET SESSION NEEDLE ENV_JSON COMMAND...
      starts COMMAND in a new 160x45 session and prints the ms until NEEDLE is on screen.
  tmux_screen.py keys SOCKET SESSION COUNT KEY...
      sends each KEY in turn (COUNT in all) and prints, per key, the ms until the screen
      differs from the one before it (2 s at most).
"""
import json
import subprocess
import sys
import time

POLL = 0.002


def tmux(socket, *args):
    return subprocess.run(
        ["tmux", "-L", socket, "-f", "/dev/null", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def screen(socket, session):
    return tmux(socket, "capture-pane", "-p", "-t", session)


def first(socket, session, needle, env, command):
    env_args = []
    for key, value in env.items():
        env_args += ["-e", f"{key}={value}"]
    start = time.perf_counter()
    tmux(socket, "new-session", "-d", "-s", session, "-x", "160", "-y", "45", *env_args, "--", *command)
    deadline = start + 60
    while time.perf_counter() < deadline:
        if needle in screen(socket, session):
            return (time.perf_counter() - start) * 1000
        time.sleep(POLL)
    sys.exit(f"{needle!r} did not show within 60 s:\n{screen(socket, session)}")


def keys(socket, session, count, names):
    out = []
    for i in range(count):
        before = screen(socket, session)
        start = time.perf_counter()
        tmux(socket, "send-keys", "-t", session, names[i % len(names)])
        while time.perf_counter() - start < 2:
            if screen(socket, session) != before:
                break
            time.sleep(POLL)
        out.append((time.perf_counter() - start) * 1000)
        # Let any frame the key set off settle before the next one.
        time.sleep(0.05)
    return out


def main():
    mode, socket, session = sys.argv[1:4]
    if mode == "first":
        needle, env = sys.argv[4], json.loads(sys.argv[5])
        print(f"{first(socket, session, needle, env, sys.argv[6:]):.1f}")
    elif mode == "keys":
        for ms in keys(socket, session, int(sys.argv[4]), sys.argv[5:]):
            print(f"{ms:.2f}")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
