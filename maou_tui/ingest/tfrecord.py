"""TFRecord framing of one TensorBoard event file, read incrementally and never fatally.

A record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``
(little endian). Why this is written here rather than taken from a library: TensorBoard's own
reader without TensorFlow (``tensorboard.compat.tensorflow_stub``'s ``PyRecordReader_New``)
computes CRC32C in a Python loop byte by byte and raises on the first bad record, and the
other readers on PyPI (``tfrecord``, tbparse over ``EventAccumulator``) either skip the checks
or cannot resume from an offset. The framing is 12 bytes of ``struct``; the checksums come from
``google-crc32c`` (Google's C implementation), and the record bodies are decoded by protobuf
(``tensorboard.compat.proto``) in ``tb_events``.

Reading follows a file that is still being written: a record cut by the end of the file is
left for the next read (the writer has not finished it). A record whose data checksum fails is
skipped and counted; a header whose checksum fails makes the reader look for the next valid
header (``resync``), counting one corrupt record.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import google_crc32c

HEADER = struct.Struct("<QI")
FOOTER = struct.Struct("<I")
HEADER_BYTES = HEADER.size  # 12
FOOTER_BYTES = FOOTER.size  # 4
#: Longest record believed: a length beyond it is a corrupt header (TensorBoard images and
#: histograms stay far below this).
MAX_RECORD_BYTES = 256 << 20
CHUNK_BYTES = 16 << 20
_MASK_DELTA = 0xA282EAD8


_crc32c = google_crc32c.value


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC32C of ``data``."""
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def valid_header(buf: bytes, pos: int) -> int | None:
    """The record length when a checksummed header starts at ``pos`` in ``buf``, else None."""
    if pos + HEADER_BYTES > len(buf):
        return None
    length, crc = HEADER.unpack_from(buf, pos)
    if length > MAX_RECORD_BYTES or masked_crc(buf[pos : pos + 8]) != crc:
        return None
    return length


def frame(buf: bytes, pos: int = 0) -> tuple[list[bytes], int, int]:
    """The records in ``buf`` from ``pos``: (bodies, offset where reading goes on, corrupt
    records skipped). An incomplete record at the end is not consumed. After a corrupt header
    with no valid one behind it yet, the offset is negative: minus where to look again."""
    records: list[bytes] = []
    corrupt = 0
    end = len(buf)
    unpack_header, unpack_footer, crc32c = HEADER.unpack_from, FOOTER.unpack_from, _crc32c
    while pos + HEADER_BYTES <= end:
        length = unpack_header(buf, pos)[0]
        body_end = pos + HEADER_BYTES + length
        if body_end + FOOTER_BYTES <= end:
            body = buf[pos + HEADER_BYTES : body_end]
            crc = crc32c(body)
            masked = (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF
            if masked == unpack_footer(buf, body_end)[0]:
                # The data checksum holds, so the length was right: the header's own
                # checksum is only read when something is wrong (half the CRC work).
                records.append(body)
                pos = body_end + FOOTER_BYTES
                continue
        if valid_header(buf, pos) is None:  # a corrupt length: look for the next record
            found = resync(buf, pos + 1)
            corrupt += 1
            if found is None:  # no valid header in what is there yet: wait for more
                return records, -max(pos + 1, end - HEADER_BYTES), corrupt
            pos = found
            continue
        if body_end + FOOTER_BYTES > end:
            break  # still being written
        corrupt += 1  # a sound header, a corrupt body: skip the record
        pos = body_end + FOOTER_BYTES
    return records, pos, corrupt


def resync(buf: bytes, pos: int) -> int | None:
    """The first offset at or after ``pos`` where a checksummed header starts (a corrupt or
    cut record is skipped this way, and a tail read starts mid-file)."""
    last = len(buf) - HEADER_BYTES
    while pos <= last:
        if valid_header(buf, pos) is not None:
            return pos
        pos += 1
    return None


class RecordFile:
    """One event file followed by offset: ``read()`` returns the records appended since."""

    def __init__(self, path: Path, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.path = Path(path)
        self.chunk_bytes = chunk_bytes
        self.offset = 0
        self.corrupt = 0
        self.bytes_read = 0
        self._synced = True

    def size(self) -> int:
        try:
            return os.stat(self.path).st_size
        except OSError:
            return 0

    def start_at(self, offset: int) -> None:
        """Begin at ``offset`` (a tail read): the first valid header there or after."""
        self.offset = offset
        self._synced = offset == 0

    def read(self, max_bytes: int | None = None) -> list[bytes]:
        """Whole records appended since the last call (about ``max_bytes`` of them at most)."""
        records: list[bytes] = []
        budget = max_bytes if max_bytes is not None else -1
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return records
        try:
            need = 0  # a record bigger than the last read: read it whole, whatever the budget
            while budget != 0:
                want = self.chunk_bytes if budget < 0 else min(self.chunk_bytes, budget)
                want = max(want, need, HEADER_BYTES)
                buf = os.pread(fd, want, self.offset)
                used, got = self._frame(buf)
                records += got
                self.offset += used
                self.bytes_read += used
                if budget > 0:
                    budget = max(0, budget - used)
                if len(buf) < want:
                    break  # the end of the file (perhaps one record still being written)
                next_record = self._record_bytes(buf, used)
                if used == 0 and next_record <= want:
                    break  # nothing whole fits and nothing bigger is announced
                need = next_record
        finally:
            os.close(fd)
        return records

    def _frame(self, buf: bytes) -> tuple[int, list[bytes]]:
        """Bytes consumed and the records they hold; resyncs after a lost header."""
        start = 0
        if not self._synced:
            found = resync(buf, 0)
            if found is None:
                return max(0, len(buf) - HEADER_BYTES + 1), []
            start, self._synced = found, True
        records, used, corrupt = frame(buf, start)
        self.corrupt += corrupt
        if used < 0:  # a corrupt header and no valid one after it yet
            self._synced = False
            used = -used
        return used, records

    @staticmethod
    def _record_bytes(buf: bytes, pos: int) -> int:
        """Size of the whole record whose header is at ``pos`` (0 when unknown)."""
        length = valid_header(buf, pos)
        return 0 if length is None else HEADER_BYTES + length + FOOTER_BYTES

    def leftover(self) -> int:
        """Bytes after the last whole record: a cut record once the writer is gone."""
        return max(0, self.size() - self.offset)
