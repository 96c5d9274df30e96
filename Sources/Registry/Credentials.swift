import Foundation

/// A username and secret for one registry. `description` never shows the secret.
public struct Credentials: Sendable, Equatable, CustomStringConvertible {
    public var username: String
    public var secret: String
    /// An OAuth2 refresh token (`identitytoken` in Docker's config) instead of a password.
    public var identityToken: String?

    public init(username: String, secret: String, identityToken: String? = nil) {
        self.username = username
        self.secret = secret
        self.identityToken = identityToken
    }

    public var description: String { "Credentials(username: \(username), secret: <redacted>)" }

    var basicAuthorization: String {
        "Basic " + Data("\(username):\(secret)".utf8).base64EncodedString()
    }
}
