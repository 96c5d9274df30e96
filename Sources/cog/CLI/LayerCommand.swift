import ArgumentParser
import CogEngine
import Foundation
import Layers
import OCI

/// `cog layer DIR`: writes one directory as a layer blob; the layer benchmark and debugging use it.
struct LayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer", abstract: "Write a directory as one layer blob and print its digests (for benchmarks).",
        shouldDisplay: false)

    @Argument(help: "Directory whose contents become the layer.") var directory: String
    @Option(help: "Blob store directory the layer is written to.") var store: String
    @Option(help: "gzip, zstd or none.") var compression = "gzip"
    @Option(help: "Compression level.") var level: Int?
    @Option(help: "Compression threads (default: all cores).") var threads: Int?

    func run() throws {
        guard let kind = LayerCompression(rawValue: compression) else {
            throw ValidationError("--compression must be gzip, zstd or none, not \"\(compression)\"")
        }
        var options = LayerOptions(
            compression: kind, level: level, sourceDateEpoch: Environment.current.sourceDateEpoch)
        if let threads { options.threads = threads }
        let start = Date()
        let entries = try DirectoryScanner(root: directory).scan()
        let layer = try LayerWriter.write(entries: entries, to: BlobStore(root: store), options: options)
        let seconds = Date().timeIntervalSince(start)
        print(
            #"{"digest":"\#(layer.descriptor.digest)","diffID":"\#(layer.diffID)","size":\#(layer.descriptor.size),"uncompressedSize":\#(layer.uncompressedSize),"seconds":\#(String(format: "%.3f", seconds))}"#
        )
    }
}
