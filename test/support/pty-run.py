#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal, as if a person had typed it into a terminal.

Usage: pty-run.py [--cols N] [--rows N] [--stderr-pipe] -- COMMAND [ARGS...]

The command gets a new session whose controlling terminal is the pty (so Ctrl-C, byte 0x03,
reaches it as SIGINT through the line discipline, as in a real terminal), with stdin, stdout and
(unless --stderr-pipe) stderr on the pty. What this script reads on its stdin is typed into the
terminal; what the terminal shows is copied to this script's stdout. With --stderr-pipe the
command's stderr is this script's own stderr (not a TTY), to tell the two streams apart.
The exit code is the command's, or 128 + N when signal N killed it.

Test helper for test/support/pty.ts; Python's pty support is in the standard library, whereas
node-pty would need a compiler.
"""
import argparse
import errno
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--cols', type=int, default=120)
    parser.add_argument('--rows', type=int, default=40)
    parser.add_argument('--stderr-pipe', action='store_true')
    parser.add_argument('command', nargs=argparse.REMAINDER)
    options = parser.parse_args()
    command = options.command[1:] if options.command[:1] == ['--'] else options.command
    if not command:
        parser.error('no command')

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', options.rows, options.cols, 0, 0))

    def become_terminal_owner() -> None:
        # A session of its own, with the pty (already on fd 0) as its controlling terminal.
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=None if options.stderr_pipe else slave,
        preexec_fn=become_terminal_owner,
        close_fds=True,
    )
    os.close(slave)

    def stop(signum: int, _frame: object) -> None:
        # The test gave up on us: do not leave the command running.
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)

    stdin_open = True
    while True:
        watched = [master] + ([0] if stdin_open else [])
        readable, _, _ = select.select(watched, [], [])
        if 0 in readable:
            data = os.read(0, 4096)
            if data:
                os.write(master, data)
            else:
                stdin_open = False
        if master in readable:
            try:
                data = os.read(master, 65536)
            except OSError as error:
                # EIO: every process holding the terminal has closed it.
                if error.errno != errno.EIO:
                    raise
                data = b''
            if not data:
                break
            os.write(1, data)

    code = child.wait()
    return 128 - code if code < 0 else code


if __name__ == '__main__':
    sys.exit(main())
