import OCI

/// A parsed image reference: registry host, repository, and a tag or digest.
///
/// Docker Hub rules: no registry means `docker.io`; a one-component repository gets `library/`; the API lives
/// at `registry-1.docker.io`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses `[registry/]repository[:tag][@digest]`; without tag or digest the tag is `latest`.
    public init(parsing value: String) throws {
        guard !value.isEmpty else { throw RegistryError.invalidReference(value, reason: "it is empty") }
        var rest = Substring(value)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do { digest = try Digest(parsing: String(rest[rest.index(after: at)...])) } catch {
                throw RegistryError.invalidReference(value, reason: "\(error)")
            }
            rest = rest[..<at]
        }
        var registry = "docker.io"
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" {
                registry = String(first)
                rest = rest[rest.index(after: slash)...]
            }
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        var repository = String(rest)
        if registry == "index.docker.io" || registry == "registry-1.docker.io" { registry = "docker.io" }
        if registry == "docker.io" && !repository.contains("/") { repository = "library/\(repository)" }
        guard !repository.isEmpty else { throw RegistryError.invalidReference(value, reason: "no repository name") }
        let allowed = repository.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-/".unicodeScalars.contains($0)
        }
        guard allowed, !repository.hasPrefix("/"), !repository.hasSuffix("/"), !repository.contains("//") else {
            throw RegistryError.invalidReference(
                value,
                reason: "repository \"\(repository)\" may only use lowercase letters, digits, and . _ - / separators")
        }
        if let tag {
            let valid =
                !tag.isEmpty && tag.count <= 128
                && tag.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                        || "._-".unicodeScalars.contains($0)
                } && !tag.hasPrefix(".") && !tag.hasPrefix("-")
            guard valid else {
                throw RegistryError.invalidReference(
                    value, reason: "tag \"\(tag)\" is not valid (letters, digits, . _ -, at most 128)")
            }
        }
        self.init(
            registry: registry, repository: repository, tag: tag ?? (digest == nil ? "latest" : nil), digest: digest)
    }

    /// The tag or digest to use in `/manifests/<reference>`; the digest wins.
    public var manifestReference: String { digest?.description ?? tag ?? "latest" }

    /// The host to send API requests to.
    public var apiHost: String { registry == "docker.io" ? "registry-1.docker.io" : registry }

    public var description: String {
        var text = "\(registry)/\(repository)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The same reference pointing at `digest` instead of a tag.
    public func withDigest(_ digest: Digest) -> ImageReference {
        ImageReference(registry: registry, repository: repository, tag: nil, digest: digest)
    }
}
