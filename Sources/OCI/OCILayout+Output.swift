import Foundation

extension OCILayout {
    /// Writes an image into the output directory `root` without ever destroying what a person keeps there:
    /// a missing directory is written under a temporary sibling and renamed into place once `body` succeeds
    /// (a failure leaves nothing); an empty directory or an existing OCI layout is added to, as skopeo does
    /// (blobs first, each under its name only once complete, then `index.json`, replacing an entry of the same
    /// name). Anything else is refused with the reason, before anything is written.
    /// - Throws: `OCIError.outputRefused` for a file, a directory holding other files, or a layout of another
    ///   version; `body`'s errors.
    public static func writeOutput<T>(to root: String, _ body: (OCILayout) throws -> T) throws -> T {
        let trimmed = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        switch try checkOutput(trimmed) {
        case .missing: return try writeNew(at: trimmed, body)
        case .empty: return try body(try create(at: trimmed))
        case .layout:
            let layout = try open(trimmed)
            try FileSystem.makeDirectory("\(trimmed)/blobs/sha256")
            return try body(layout)
        }
    }

    /// What an output directory is now.
    public enum OutputTarget: Sendable, Equatable { case missing, empty, layout }

    /// Checks that `root` may receive an image (see `writeOutput`), so a command can refuse before working.
    /// - Throws: `OCIError.outputRefused` with the reason.
    @discardableResult
    public static func checkOutput(_ root: String) throws -> OutputTarget {
        var st = stat()
        guard stat(root, &st) == 0 else {
            guard errno == ENOENT else { throw OCIError.posix("stat", root) }
            return .missing
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw OCIError.outputRefused(path: root, reason: "it is a file, not a directory")
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: root) } catch {
            throw OCIError.posix("list", root, EACCES)
        }
        if names.isEmpty { return .empty }
        guard names.contains("oci-layout") else {
            let shown = names.sorted().prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
            throw OCIError.outputRefused(
                path: root, reason: "the directory holds other files (\(shown)) and is not an OCI layout")
        }
        do {
            _ = try open(root).index()
        } catch let error as OCIError {
            throw OCIError.outputRefused(path: root, reason: "\(error)")
        }
        return .layout
    }

    private static func writeNew<T>(at root: String, _ body: (OCILayout) throws -> T) throws -> T {
        let temporary = FileSystem.temporarySibling(of: root)
        do {
            let result = try body(try create(at: temporary))
            try FileSystem.rename(temporary, to: root)
            return result
        } catch {
            FileSystem.remove(temporary)
            throw error
        }
    }
}
