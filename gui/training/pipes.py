"""The GUI's ends of the training process's pipes, which never wait for the process (Qt-free).

The process (:mod:`gui.training.child`) reads and writes its ends with
:class:`multiprocessing.connection.Connection`, whose framing these follow: each message is its
length (4 bytes, big-endian; -1 and 8 more bytes above 2 GB), then its bytes. A Connection waits
until a whole message has gone or come, so the GUI would hang with a process that stopped
halfway (SIGSTOP, a debugger, a machine out of memory): an :class:`Outbox` queues what the pipe
cannot take yet, an :class:`Inbox` keeps a part of a message until the rest comes.
"""

from __future__ import annotations

import os
import struct

SHORT = struct.Struct("!i")
LONG = struct.Struct("!Q")


def frame(data: bytes) -> bytes:
    """``data`` as one message of a Connection."""
    n = len(data)
    return (SHORT.pack(n) if n <= 0x7FFFFFFF else SHORT.pack(-1) + LONG.pack(n)) + data


class Outbox:
    """The command pipe's writing end: :meth:`send_bytes` queues a message and writes what the pipe takes
    now; :meth:`flush` writes more of the queue (call it when the pipe is writable again)."""

    def __init__(self, fd: int):
        os.set_blocking(fd, False)
        self.fd, self.closed = fd, False
        self._unsent = bytearray()

    def fileno(self) -> int:
        return self.fd

    @property
    def pending(self) -> bool:
        """Whether some of the messages sent wait for room in the pipe."""
        return bool(self._unsent)

    def send_bytes(self, data: bytes) -> bool:
        """Queue ``data`` as one message; False once the process is gone (its end of the pipe closed)."""
        if self.closed:
            return False
        self._unsent += frame(data)
        return self.flush()

    def flush(self) -> bool:
        """Write what the pipe takes without waiting; False once the process is gone."""
        while self._unsent and not self.closed:
            try:
                written = os.write(self.fd, self._unsent)
            except BlockingIOError:
                break
            except OSError:  # EPIPE: nobody reads any more
                self.close()
            else:
                del self._unsent[:written]
        return not self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._unsent.clear()
            os.close(self.fd)


class Inbox:
    """The message pipe's reading end: :meth:`take` returns a whole message once all of it came;
    ``received`` counts the bytes read (a part of a message too: the writer is alive)."""

    def __init__(self, fd: int):
        os.set_blocking(fd, False)
        self.fd, self.closed, self.received = fd, False, 0
        self._header, self._size, self._body = b"", None, bytearray()

    def fileno(self) -> int:
        return self.fd

    def take(self) -> bytes | None:
        """The next message, or None while the pipe has not all of it; EOFError once the process closed its
        end. Reads only up to the end of the message: the rest stays in the pipe (and its notifier fires)."""
        while True:
            if self._size is None and len(self._header) == self._header_size():
                long = len(self._header) > SHORT.size
                self._size = LONG.unpack(self._header[SHORT.size:])[0] if long else SHORT.unpack(self._header)[0]
            if self._size is not None and len(self._body) == self._size:
                message = bytes(self._body)
                self._header, self._size, self._body = b"", None, bytearray()
                return message
            if self._size is None:
                chunk = self._read(self._header_size() - len(self._header))
                self._header += chunk or b""
            else:
                chunk = self._read(self._size - len(self._body))
                self._body += chunk or b""
            if chunk is None:
                return None

    def _header_size(self) -> int:
        long = self._header[:SHORT.size] == SHORT.pack(-1)
        return SHORT.size + (LONG.size if long else 0)

    def _read(self, n: int) -> bytes | None:
        """Up to ``n`` bytes; None if the pipe is empty now."""
        if self.closed:
            raise EOFError
        try:
            chunk = os.read(self.fd, n)
        except BlockingIOError:
            return None
        if not chunk:
            raise EOFError
        self.received += len(chunk)
        return chunk

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)
