import Foundation

/// Bearer tokens per scope set, kept until shortly before they expire.
actor TokenCache {
    private struct Entry {
        let token: String
        let expires: Date
    }

    private var entries: [String: Entry] = [:]
    /// The auth scheme the registry asked for (`bearer` or `basic`), once known.
    private(set) var scheme: String?
    private(set) var challenge: AuthChallenge?

    func token(for scope: String) -> String? {
        guard let entry = entries[scope] else { return nil }
        // Refreshed 30 s early so a request in flight never carries an expired token.
        guard entry.expires.timeIntervalSinceNow > 30 else {
            entries[scope] = nil
            return nil
        }
        return entry.token
    }

    func store(_ token: String, for scope: String, expiresIn: Double) {
        entries[scope] = Entry(token: token, expires: Date(timeIntervalSinceNow: expiresIn))
    }

    func remember(_ challenge: AuthChallenge) {
        self.challenge = challenge
        scheme = challenge.scheme
    }

    func forget(scope: String) { entries[scope] = nil }
}
