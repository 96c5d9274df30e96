import Foundation
import OCI

/// A client for one registry host speaking the OCI distribution API, with auth, retries and redirects.
public final class RegistryClient: Sendable {
    /// The registry's name as users write it (`docker.io`, `r8.im`, `127.0.0.1:5000`).
    public let registry: String
    /// Where requests go (`registry-1.docker.io` for Docker Hub).
    public let host: String
    public let baseURL: String
    let settings: RegistrySettings
    let http: any HTTPTransport
    let credentials: Credentials?
    let tokens = TokenCache()
    /// Where retries are reported (a person waiting should see that something is being tried again).
    let progress: TransferProgress

    /// - Parameters:
    ///   - registry: registry name; credentials are looked up under it.
    ///   - host: API host when it differs from the name (mirrors, Docker Hub).
    public init(
        registry: String, host: String? = nil, credentials: Credentials?, settings: RegistrySettings,
        http: any HTTPTransport, progress: TransferProgress = SilentProgress()
    ) {
        self.registry = registry
        self.progress = progress
        let apiHost = host ?? (registry == "docker.io" ? "registry-1.docker.io" : registry)
        self.host = apiHost
        self.baseURL = "\(settings.scheme(for: apiHost))://\(apiHost)"
        self.settings = settings
        self.http = http
        self.credentials = credentials
    }

    /// A client for `registry` with credentials from Docker's config (or a helper).
    public static func connecting(
        to registry: String, config: DockerConfig, settings: RegistrySettings, http: any HTTPTransport,
        progress: TransferProgress = SilentProgress()
    ) throws -> RegistryClient {
        RegistryClient(
            registry: registry, credentials: try config.credentials(for: registry), settings: settings, http: http,
            progress: progress)
    }

    func url(_ path: String) -> String { "\(baseURL)/v2/\(path)" }

    /// The access a request needs, as a token scope.
    struct Scope: Sendable {
        var repository: String
        var actions: [String]
        var extra: [String] = []
        var text: String {
            ((repository.isEmpty ? [] : ["repository:\(repository):\(actions.joined(separator: ","))"]) + extra).joined(
                separator: " ")
        }
    }

    /// Sends a request with authentication, following redirects and retrying transient failures (each retry
    /// reported to `progress`, about `digest` when given). A reply from another host after a redirect is marked
    /// `fromRedirect`.
    /// - Parameter retry: false for requests whose caller resumes on its own (ranged downloads, chunk uploads).
    func send(
        _ original: HTTPRequest, scope: Scope, retry: Bool = true, digest: Digest? = nil,
        into destination: @escaping @Sendable () -> ResponseDestination = { .memory(limit: 16 << 20) }
    ) async throws -> HTTPResponse {
        var request = original
        request.timeouts = settings.timeouts
        var attempt = 1
        var authenticated = false
        var redirects = 0
        var sameHost = true
        while true {
            if sameHost {
                request.setHeader("Authorization", try await authorization(for: scope))
            } else {
                request.setHeader("Authorization", nil)
            }
            var response: HTTPResponse
            do {
                response = try await http.send(request, into: destination)
            } catch let error as RegistryError where retry && attempt < settings.retry.attempts(after: error) {
                try await pause(after: error, attempt: &attempt, request: request, digest: digest)
                continue
            }
            if response.status == 401 && sameHost && !authenticated, let header = response.header("www-authenticate"),
                let challenge = AuthChallenge(header: header)
            {
                authenticated = true
                await tokens.remember(challenge)
                await tokens.forget(scope: scope.text)
                if challenge.scheme == "bearer" { try await fetchToken(challenge: challenge, scope: scope) }
                continue
            }
            if [301, 302, 303, 307, 308].contains(response.status), let location = response.header("location"),
                redirects < 5
            {
                redirects += 1
                let next = resolveLocation(location, against: request.url)
                // distribution-spec: blob GETs redirect to storage; the registry's credentials must not follow.
                sameHost = hostOfURL(next) == hostOfURL(original.url)
                request.url = next
                if response.status == 303 {
                    request.method = "GET"
                    request.body = .none
                }
                continue
            }
            if retry && RegistryError.retryableStatuses.contains(response.status)
                && attempt < settings.retry.maxAttempts
            {
                let error = failure(request, response)
                try await pause(
                    after: error, attempt: &attempt, request: request, digest: digest,
                    retryAfter: response.header("retry-after"))
                continue
            }
            if response.status == 401 || response.status == 403 {
                throw unauthorized(scope: scope, status: response.status, response: response)
            }
            response.fromRedirect = !sameHost
            return response
        }
    }

    /// Reports a failed attempt and waits before the next one.
    private func pause(
        after error: RegistryError, attempt: inout Int, request: HTTPRequest, digest: Digest?,
        retryAfter: String? = nil
    ) async throws {
        let limit = settings.retry.attempts(after: error)
        progress.report(.retrying(digest, reason: "\(error) (attempt \(attempt) of \(limit))"))
        try await Task.sleep(
            nanoseconds: UInt64(settings.retry.delay(attempt: attempt, retryAfter: retryAfter) * 1e9))
        attempt += 1
    }

    /// Turns an error reply into a `RegistryError.http` carrying the spec's `errors` array when it decodes, or
    /// into `notARegistry` when the reply is a web page rather than the registry API's.
    func failure(_ request: HTTPRequest, _ response: HTTPResponse, subject: String? = nil) -> RegistryError {
        struct Body: Decodable { let errors: [RegistryError.ErrorDetail] }
        let errors = (try? JSONDecoder().decode(Body.self, from: response.body))?.errors ?? []
        if errors.isEmpty, let page = Self.webPage(response) {
            return .notARegistry(method: request.method, url: redact(request.url), status: response.status, reply: page)
        }
        let text = errors.isEmpty ? String(decoding: response.body.prefix(500), as: UTF8.self) : ""
        return .http(
            method: request.method, url: redact(request.url), status: response.status, errors: errors, body: text,
            subject: subject)
    }

    /// "an HTML page titled "…"" when a reply is a web page (what a plain web server or a proxy's error page
    /// sends); nil otherwise.
    static func webPage(_ response: HTTPResponse) -> String? {
        let type = response.header("content-type")?.lowercased() ?? ""
        let text = String(decoding: response.body.prefix(8192), as: UTF8.self)
        let start = text.drop { $0.isWhitespace }.prefix(15).lowercased()
        guard type.hasPrefix("text/html") || start.hasPrefix("<!doctype html") || start.hasPrefix("<html") else {
            return nil
        }
        guard let open = text.range(of: "<title>", options: .caseInsensitive),
            let close = text.range(of: "</title>", options: .caseInsensitive, range: open.upperBound..<text.endIndex)
        else { return "an HTML page" }
        let title = text[open.upperBound..<close.lowerBound].split(whereSeparator: \.isWhitespace).joined(
            separator: " ")
        return title.isEmpty ? "an HTML page" : "an HTML page titled \"\(title.prefix(80))\""
    }

    func unauthorized(scope: Scope, status: Int, response: HTTPResponse) -> RegistryError {
        let login = registry == "r8.im" ? "cog login" : "cog login \(registry)"
        let hint: String
        if credentials == nil {
            hint = "no credentials for \(registry); run `\(login)` or add them to ~/.docker/config.json"
        } else if status == 403 {
            hint =
                "the credentials for \(registry) (user \(credentials?.username ?? "?")) do not allow \(scope.actions.joined(separator: "+")); check the repository name and your permissions"
        } else {
            hint = "the registry rejected the credentials for \(registry); run `\(login)` again"
        }
        return .unauthorized(registry: registry, repository: scope.repository, hint: hint)
    }
}

/// Resolves a `Location` header against the URL of the request that got it.
func resolveLocation(_ location: String, against base: String) -> String {
    if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
    guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else {
        return location
    }
    return resolved.absoluteString
}

func hostOfURL(_ url: String) -> String? {
    URLComponents(string: url)?.host.map { h in URLComponents(string: url)?.port.map { "\(h):\($0)" } ?? h }
}

extension RegistryClient {
    /// Checks the credentials against `GET /v2/` (the spec's version check, which every registry authenticates).
    public func checkLogin() async throws {
        let request = HTTPRequest(method: "GET", url: "\(baseURL)/v2/")
        let response = try await send(request, scope: Scope(repository: "", actions: []))
        guard response.isSuccess else { throw failure(request, response) }
        // A web server answers 200 to `/v2/` too; a registry answers with JSON (`{}`), never a page.
        if let page = Self.webPage(response) {
            throw RegistryError.notARegistry(
                method: request.method, url: redact(request.url), status: response.status, reply: page)
        }
    }
}
