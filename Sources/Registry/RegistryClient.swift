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

    /// - Parameters:
    ///   - registry: registry name; credentials are looked up under it.
    ///   - host: API host when it differs from the name (mirrors, Docker Hub).
    public init(
        registry: String, host: String? = nil, credentials: Credentials?, settings: RegistrySettings,
        http: any HTTPTransport
    ) {
        self.registry = registry
        let apiHost = host ?? (registry == "docker.io" ? "registry-1.docker.io" : registry)
        self.host = apiHost
        self.baseURL = "\(settings.scheme(for: apiHost))://\(apiHost)"
        self.settings = settings
        self.http = http
        self.credentials = credentials
    }

    /// A client for `registry` with credentials from Docker's config (or a helper).
    public static func connecting(
        to registry: String, config: DockerConfig, settings: RegistrySettings, http: any HTTPTransport
    ) throws -> RegistryClient {
        RegistryClient(
            registry: registry, credentials: try config.credentials(for: registry), settings: settings, http: http)
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

    /// Sends a request with authentication, following redirects and retrying transient failures.
    /// - Parameter retry: false for requests whose caller resumes on its own (ranged downloads, chunk uploads).
    func send(
        _ original: HTTPRequest, scope: Scope, retry: Bool = true,
        into destination: @escaping @Sendable () -> ResponseDestination = { .memory(limit: 16 << 20) }
    ) async throws -> HTTPResponse {
        var request = original
        var attempt = 0
        var authenticated = false
        var redirects = 0
        var sameHost = true
        while true {
            if sameHost {
                request.setHeader("Authorization", try await authorization(for: scope))
            } else {
                request.setHeader("Authorization", nil)
            }
            let response: HTTPResponse
            do {
                response = try await http.send(request, into: destination)
            } catch let error as RegistryError
                where retry && error.isRetryable && attempt + 1 < settings.retry.maxAttempts
            {
                attempt += 1
                try await Task.sleep(nanoseconds: UInt64(settings.retry.delay(attempt: attempt) * 1e9))
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
            if retry && [408, 429, 499, 500, 502, 503, 504, 522].contains(response.status)
                && attempt + 1 < settings.retry.maxAttempts
            {
                attempt += 1
                try await Task.sleep(
                    nanoseconds: UInt64(
                        settings.retry.delay(attempt: attempt, retryAfter: response.header("retry-after")) * 1e9))
                continue
            }
            if response.status == 401 || response.status == 403 {
                throw unauthorized(scope: scope, status: response.status, response: response)
            }
            return response
        }
    }

    /// Turns an error reply into a `RegistryError.http` carrying the spec's `errors` array when it decodes.
    func failure(_ request: HTTPRequest, _ response: HTTPResponse) -> RegistryError {
        struct Body: Decodable { let errors: [RegistryError.ErrorDetail] }
        let errors = (try? JSONDecoder().decode(Body.self, from: response.body))?.errors ?? []
        let text = errors.isEmpty ? String(decoding: response.body.prefix(500), as: UTF8.self) : ""
        return .http(
            method: request.method, url: redact(request.url), status: response.status, errors: errors, body: text)
    }

    private func unauthorized(scope: Scope, status: Int, response: HTTPResponse) -> RegistryError {
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

    // MARK: auth

    private func authorization(for scope: Scope) async throws -> String? {
        switch await tokens.scheme {
        case "bearer": return await tokens.token(for: scope.text).map { "Bearer \($0)" }
        case "basic": return credentials?.basicAuthorization
        default: return nil
        }
    }

    /// `application/x-www-form-urlencoded`: everything but unreserved characters percent-encoded (`+` too).
    static func formEncoded(_ fields: [(String, String)]) -> String {
        let unreserved = CharacterSet(
            charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text }
        return fields.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    private struct TokenReply: Decodable {
        let token: String?
        let accessToken: String?
        let expiresIn: Double?
        enum CodingKeys: String, CodingKey {
            case token
            case accessToken = "access_token"
            case expiresIn = "expires_in"
        }
    }

    private func fetchToken(challenge: AuthChallenge, scope: Scope) async throws {
        guard let realm = challenge.realm, realm.hasPrefix("https://") || realm.hasPrefix("http://") else {
            throw RegistryError.protocolViolation("\(registry) asked for a bearer token without a usable realm")
        }
        var components = URLComponents(string: realm)
        var items = components?.queryItems ?? []
        if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
        for part in scope.text.split(separator: " ") { items.append(URLQueryItem(name: "scope", value: String(part))) }
        components?.queryItems = items
        guard let url = components?.url?.absoluteString else {
            throw RegistryError.protocolViolation("bad token realm \(realm)")
        }
        var request = HTTPRequest(method: "GET", url: url)
        if let refresh = credentials?.identityToken, !refresh.isEmpty {
            // OAuth2 (distribution's oauth.md): a refresh token (Docker's `identitytoken`) is exchanged by POST and
            // never sent as basic auth.
            var fields = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "cog")]
            if let service = challenge.service { fields.append(("service", service)) }
            if !scope.text.isEmpty { fields.append(("scope", scope.text)) }
            request = HTTPRequest(
                method: "POST", url: realm, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: .data(Data(Self.formEncoded(fields).utf8)))
        } else if let credentials {
            request.setHeader("Authorization", credentials.basicAuthorization)
        }
        var response = try await http.send(request)
        var attempt = 0
        while !response.isSuccess && (response.status >= 500 || response.status == 429)
            && attempt + 1 < settings.retry.maxAttempts
        {
            attempt += 1
            try await Task.sleep(
                nanoseconds: UInt64(
                    settings.retry.delay(attempt: attempt, retryAfter: response.header("retry-after")) * 1e9))
            response = try await http.send(request)
        }
        guard response.isSuccess else {
            if response.status == 401 || response.status == 403 {
                throw unauthorized(scope: scope, status: response.status, response: response)
            }
            throw failure(HTTPRequest(method: request.method, url: realm), response)
        }
        guard let reply = try? JSONDecoder().decode(TokenReply.self, from: response.body),
            let token = reply.token ?? reply.accessToken, !token.isEmpty
        else {
            throw RegistryError.protocolViolation("the token server at \(realm) answered without a token")
        }
        // distribution token spec: expires_in defaults to 60 seconds.
        await tokens.store(token, for: scope.text, expiresIn: reply.expiresIn ?? 60)
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
    }
}
