import Foundation
import OCI

extension RegistryClient {
    // MARK: auth

    func authorization(for scope: Scope) async throws -> String? {
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

    func fetchToken(challenge: AuthChallenge, scope: Scope) async throws {
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
        var request = HTTPRequest(method: "GET", url: url, timeouts: settings.timeouts)
        if let refresh = credentials?.identityToken, !refresh.isEmpty {
            // OAuth2 (distribution's oauth.md): a refresh token (Docker's `identitytoken`) is exchanged by POST and
            // never sent as basic auth.
            var fields = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "cog")]
            if let service = challenge.service { fields.append(("service", service)) }
            if !scope.text.isEmpty { fields.append(("scope", scope.text)) }
            request = HTTPRequest(
                method: "POST", url: realm, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: .data(Data(Self.formEncoded(fields).utf8)), timeouts: settings.timeouts)
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
