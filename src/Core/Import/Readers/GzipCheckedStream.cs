using System.Buffers.Binary;
using System.IO.Compression;

namespace SelfTaught.Core.Import.Readers;

/// <summary>
/// Decompresses a gzip file and, at its end, checks the size in the gzip trailer: .NET's GZipStream ends quietly on a
/// truncated file, which would import part of it without a word. Concatenated (multi-member) gzip files fail this
/// check, since the trailer holds the last member's size only.
/// </summary>
internal sealed class GzipCheckedStream(FileStream file) : Stream
{
    private readonly GZipStream _gzip = new(file, CompressionMode.Decompress, leaveOpen: true);
    private long _decompressed;
    private bool _checked;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _decompressed; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _gzip.Read(buffer);
        return Count(read, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _gzip.ReadAsync(buffer, cancellationToken);
        return Count(read, buffer.Length);
    }

    private int Count(int read, int requested)
    {
        _decompressed += read;
        if (read == 0 && requested > 0 && !_checked)
        {
            _checked = true;
            if (file.Length < 18) throw new InvalidDataException("the file is too short for gzip");
            Span<byte> size = stackalloc byte[4];
            file.Seek(-4, SeekOrigin.End);
            file.ReadExactly(size);
            var expected = BinaryPrimitives.ReadUInt32LittleEndian(size);
            if (expected != (uint)_decompressed)
                throw new InvalidDataException(FormattableString.Invariant(
                    $"it decompresses to {_decompressed:N0} bytes but its trailer records {expected:N0} (mod 2^32); concatenated gzip members are not supported"));
        }
        return read;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _gzip.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _gzip.DisposeAsync();
        await base.DisposeAsync();
    }
}
