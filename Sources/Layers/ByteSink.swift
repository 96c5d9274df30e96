import OCI

/// Where a stream of bytes goes: a hasher, a compressor, a file, a socket. Stages chain by wrapping the next sink.
public protocol ByteSink: AnyObject {
    /// Takes the bytes; they may be copied, never kept by reference.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Ends the stream: flushes what is buffered and finishes the next sink.
    func finish() throws
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
}

/// Hashes and counts the bytes on their way to the next sink (the diffID before compression, the digest after).
public final class HashingSink: ByteSink {
    private let next: ByteSink
    private let hasher: DigestHasher
    private var result: Digest?

    public init(_ next: ByteSink, algorithm: Digest.Algorithm = .sha256) throws {
        self.next = next
        self.hasher = try DigestHasher(algorithm)
    }

    /// Bytes that passed so far.
    public var count: Int64 { hasher.count }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try hasher.update(bytes)
        try next.write(bytes)
    }

    public func finish() throws {
        if result == nil { result = try hasher.finalize() }
        try next.finish()
    }

    /// The digest of everything written; valid after `finish()`.
    public var digest: Digest {
        get throws {
            guard let result else { throw LayersError.unfinishedStream }
            return result
        }
    }
}

/// Writes to a file.
public final class FileSink: ByteSink {
    private let file: FileStream
    public init(_ file: FileStream) { self.file = file }
    public convenience init(creating path: String) throws { self.init(try FileStream.create(path, exclusive: true)) }
    public func write(_ bytes: UnsafeRawBufferPointer) throws { try file.write(bytes) }
    public func finish() throws { try file.close() }
}

/// Discards bytes (to compute digests without writing anything).
public final class NullSink: ByteSink {
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws {}
    public func finish() throws {}
}

/// Collects bytes in memory: for small documents and tests, never for layers.
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
    public func finish() throws {}
}
