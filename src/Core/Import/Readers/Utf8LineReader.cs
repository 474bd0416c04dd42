using System.Buffers;

namespace SelfTaught.Core.Import.Readers;

/// <summary>
/// Reads lines as raw UTF-8 bytes (so invalid bytes can be detected per line, which a StreamReader would silently
/// replace). A line longer than the limit is skipped to its end without being buffered and reported as too long.
/// </summary>
internal sealed class Utf8LineReader(Stream stream, int maxLineBytes)
{
    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly ArrayBufferWriter<byte> _line = new(1 << 12);
    private int _start;
    private int _end;
    private bool _eof;
    private bool _atStart = true;

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>The next line without its line break (and without a UTF-8 byte order mark on the first), or null at the end.</summary>
    public async ValueTask<Line?> ReadLineAsync(CancellationToken cancellationToken)
    {
        _line.ResetWrittenCount();
        long length = 0;
        var sawAny = false;
        while (true)
        {
            if (_start == _end)
            {
                if (_eof) break;
                _start = 0;
                _end = await stream.ReadAsync(_buffer, cancellationToken);
                if (_end == 0) { _eof = true; break; }
                if (_atStart)
                {
                    _atStart = false;
                    if (_end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF) _start = 3;
                }
            }

            sawAny = true;
            var available = _buffer.AsSpan(_start, _end - _start);
            var newline = available.IndexOf((byte)'\n');
            var segment = newline >= 0 ? available[..newline] : available;
            if (length + segment.Length <= maxLineBytes) _line.Write(segment);
            length += segment.Length;
            _start += newline >= 0 ? newline + 1 : segment.Length;
            if (newline >= 0) return Complete(length);
        }
        return sawAny ? Complete(length) : null;
    }

    private Line Complete(long length)
    {
        LineNumber++;
        if (length > maxLineBytes) return new Line(ReadOnlyMemory<byte>.Empty, length, TooLong: true);
        var bytes = _line.WrittenMemory;
        if (bytes.Length > 0 && bytes.Span[^1] == (byte)'\r') bytes = bytes[..^1];
        return new Line(bytes, length, TooLong: false);
    }

    /// <summary>A line's bytes (valid until the next read), its length in bytes, and whether it exceeded the limit.</summary>
    public readonly record struct Line(ReadOnlyMemory<byte> Bytes, long Length, bool TooLong);
}
