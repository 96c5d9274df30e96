import CSupport
import Foundation
import Layers
import TestSupport

/// SplitMix64: a small seeded generator, so a tree is the same on every machine for the same seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random trees holding everything a user or a package can create: names in several scripts, names that are not
/// UTF-8, long names, deep directories, symlinks of every kind (relative, absolute, climbing out, dangling, not
/// UTF-8, long), hard links, fifos, sparse files, user.* xattrs, setuid/setgid/sticky modes, devices and owners
/// (when root). Names are bytes, so the tree is made with system calls, never through `String` paths.
struct TortureTree {
    let root: BytePath
    var random: SeededGenerator
    let asRoot: Bool
    private var directories: [BytePath] = [""]
    private var files: [BytePath] = []
    private var names: [BytePath: Set<BytePath>] = [:]
    private var modes: [(path: BytePath, mode: mode_t)] = []

    static let scripts = [
        "données", "日本語", "ファイル", "кириллица", "Ελληνικά", "עברית", "العربية", "हिन्दी", "한국어", "emoji-🙂",
        "e\u{301}", "é", "Zürich", "straße", "中文名", "ﬁ-ligature",
    ]
    /// Byte sequences that are not UTF-8: Latin-1, stray continuation bytes, a truncated sequence, an encoded
    /// surrogate, an overlong slash.
    static let invalid: [[UInt8]] = [[0xE9], [0xFF, 0xFE], [0x80], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF8]]
    static let specials = [
        "with space", "tab\tname", "new\nline", "back\\slash", "-dash", "quote\"s", "*glob?[x]", "%25", "...",
        ".hidden",
        "trailing-space ", "ünïcödé.tar.gz",
    ]

    init(seed: UInt64, root: String, asRoot: Bool) {
        self.root = BytePath(root)
        random = SeededGenerator(seed: seed)
        self.asRoot = asRoot
    }

    /// Makes the tree under `root` (which must exist and be empty).
    mutating func make() throws {
        let count = Int.random(in: 8...40, using: &random)
        for _ in 0..<count { try addNode() }
        if Bool.random(using: &random) { try addDeepChain() }
        // Directory modes last, deepest first, so making the tree was never blocked by one.
        for (path, mode) in modes.reversed() { try check(root.appending(path).withCString { chmod($0, mode) }, path) }
    }

    private mutating func addNode() throws {
        let parent = directories.randomElement(using: &random)!
        guard let name = freshName(in: parent), parent.count + name.count < 2000 else { return }
        let path = parent.appending(name)
        let full = root.appending(path)
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<20:
            try check(full.withCString { mkdir($0, 0o755) }, path)
            directories.append(path)
            try finish(path, modes: [0o755, 0o700, 0o1777, 0o2775, 0o555, 0o750], directory: true)
        case 20..<50:
            try writeFile(full, bytes: randomBytes(upTo: Bool.random(using: &random) ? 3000 : 40))
            files.append(path)
            try finish(
                path, modes: [0o644, 0o755, 0o600, 0o4755, 0o2755, 0o444, 0o640, 0o777, 0o000], directory: false)
        case 50..<67:
            try check(
                symlinkTarget(from: parent).withCString { target in full.withCString { symlink(target, $0) } }, path)
            try own(path)
        case 67..<77:
            guard let existing = files.randomElement(using: &random) else { return }
            try check(root.appending(existing).withCString { from in full.withCString { link(from, $0) } }, path)
        case 77..<84:
            try check(full.withCString { mkfifo($0, 0o644) }, path)
            try finish(path, modes: [0o644, 0o600, 0o666], directory: false)
        case 84..<92:
            try writeSparse(full)
            files.append(path)
            try finish(path, modes: [0o644, 0o600], directory: false)
        case 92..<95 where asRoot:
            let made = full.withCString {
                cog_mknod_at(AT_FDCWD, $0, S_IFCHR | 0o620, UInt32.random(in: 1...200, using: &random), 7)
            }
            try check(made, path)
            try own(path)
        default:
            try writeFile(full, bytes: [])
            files.append(path)
            try finish(path, modes: [0o644], directory: false)
        }
    }

    /// Eight to sixteen nested directories with long names, and a file at the bottom.
    private mutating func addDeepChain() throws {
        var path = directories.randomElement(using: &random)!
        for _ in 0..<Int.random(in: 8...16, using: &random) {
            let name = BytePath(String(repeating: "d", count: Int.random(in: 20...120, using: &random)))
            path = path.appending(name)
            guard root.appending(path).withCString({ mkdir($0, 0o755) }) == 0 else { return }  // taken already
            directories.append(path)
        }
        try writeFile(root.appending(path.appending("bottom.txt")), bytes: Array("deep\n".utf8))
        files.append(path.appending("bottom.txt"))
    }

    // MARK: names and targets

    mutating func freshName(in parent: BytePath) -> BytePath? {
        for _ in 0..<10 {
            let name = randomName()
            guard name != ".", name != "..", !name.hasPrefix(".wh."), name.bytes.count <= 255,
                names[parent, default: []].insert(name).inserted
            else { continue }
            return name
        }
        return nil
    }

    mutating func randomName() -> BytePath {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<30: return BytePath(asciiWord())
        case 30..<50:
            return BytePath(Self.scripts.randomElement(using: &random)! + "-" + asciiWord())
        case 50..<65:
            return BytePath(Array(asciiWord().utf8) + Self.invalid.randomElement(using: &random)! + Array("x".utf8))
        case 65..<80:
            // Long: over 100 bytes (a ustar name), up to the 255 a name may have.
            let unit = ["x", "é", "日", "ab"].randomElement(using: &random)!
            let target = Int.random(in: 101...255, using: &random)
            return BytePath(String(repeating: unit, count: target / unit.utf8.count))
        default: return BytePath(Self.specials.randomElement(using: &random)! + asciiWord())
        }
    }

    mutating func asciiWord() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789_.-")
        return String((0..<Int.random(in: 1...12, using: &random)).map { _ in letters.randomElement(using: &random)! })
    }

    mutating func symlinkTarget(from parent: BytePath) -> BytePath {
        let depth = parent.components.count
        let climb = String(repeating: "../", count: depth)
        switch Int.random(in: 0..<7, using: &random) {
        case 0:
            let target = (files + directories.dropFirst()).randomElement(using: &random) ?? "nowhere"
            return BytePath(climb).appending(target)
        case 1: return BytePath(["/usr/lib/python3/dist-packages", "/", "/etc/passwd"].randomElement(using: &random)!)
        case 2: return BytePath(climb + "../../shared/weights")
        case 3: return BytePath("no-such-file-" + asciiWord())
        case 4: return BytePath(Array("caf".utf8) + Self.invalid.randomElement(using: &random)! + Array("/x".utf8))
        case 5: return BytePath(String(repeating: "long-component/", count: Int.random(in: 8...40, using: &random)))
        default: return BytePath(Self.scripts.randomElement(using: &random)!)
        }
    }

    // MARK: content and metadata

    mutating func randomBytes(upTo limit: Int) -> [UInt8] {
        let count = [0, 1, 511, 512, 513, Int.random(in: 0...limit, using: &random)].randomElement(using: &random)!
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    func writeFile(_ full: BytePath, bytes: [UInt8]) throws {
        let fd = full.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        try check(fd < 0 ? -1 : 0, full)
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        try check(written == bytes.count ? 0 : -1, full)
    }

    /// A file of up to 2 MiB with a few data runs and holes between them.
    mutating func writeSparse(_ full: BytePath) throws {
        try writeFile(full, bytes: [])
        let size = Int64.random(in: (64 << 10)...(2 << 20), using: &random)
        try check(full.withCString { truncate($0, off_t(size)) }, full)
        let fd = full.withCString { open($0, O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let data = (0..<Int.random(in: 1...5000, using: &random)).map { _ in
                UInt8.random(in: 1...255, using: &random)
            }
            let offset = Int64.random(in: 0..<size, using: &random)
            _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, min($0.count, Int(size - offset)), off_t(offset)) }
        }
    }

    /// Owner (as root), xattrs, then the mode (chown clears setuid bits); directories get their mode at the end.
    mutating func finish(_ path: BytePath, modes choices: [mode_t], directory: Bool) throws {
        try own(path)
        let full = root.appending(path)
        let isFifo = (try? statusOf(full)).map { $0.st_mode & S_IFMT == S_IFIFO } ?? false
        if !isFifo && Int.random(in: 0..<10, using: &random) < 3 {
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                let name = "user.cog-" + asciiWord()
                let value = randomBytes(upTo: 24).prefix(24)
                _ = full.withCString { p in
                    Array(value).withUnsafeBytes { lsetxattr(p, name, $0.baseAddress, $0.count, 0) }
                }
            }
        }
        // Not root: no mode that would keep the scanner (or the clean-up) out.
        let allowed = asRoot ? choices : choices.filter { $0 & 0o600 == 0o600 }
        let mode = allowed.randomElement(using: &random) ?? 0o644
        if directory {
            modes.append((path, mode))
        } else {
            try check(full.withCString { chmod($0, mode) }, path)
        }
    }

    mutating func own(_ path: BytePath) throws {
        guard asRoot else { return }
        let ids: [UInt32] = [0, 1, 1000, 65534, 100_000, 2_097_152, 3_000_000]
        let uid = ids.randomElement(using: &random)!
        let gid = ids.randomElement(using: &random)!
        try check(root.appending(path).withCString { lchown($0, uid, gid) }, path)
    }

    func statusOf(_ full: BytePath) throws -> stat {
        var st = stat()
        try check(full.withCString { lstat($0, &st) }, full)
        return st
    }

    func check(_ code: Int32, _ path: BytePath) throws {
        guard code == 0 else {
            throw TestSetupError("making the torture tree at \(path): \(String(cString: strerror(errno)))")
        }
    }
}
