/// "Did you mean …?" for misspelt keys: the closest known key by edit distance, if it is close enough.
enum KeySuggestion {
    /// The candidate nearest to `key`, when at most a third of its letters (and at least one) differ.
    static func nearest(to key: String, in candidates: [String]) -> String? {
        let lowered = key.lowercased()
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(Array(lowered), Array(candidate.lowercased()))
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let allowed = max(1, min(3, max(key.count, best.candidate.count) / 3))
        return best.distance <= allowed ? best.candidate : nil
    }

    /// The "did you mean" hint for `key`, or nil.
    static func hint(for key: String, in candidates: [String]) -> String? {
        nearest(to: key, in: candidates).map { "did you mean \"\($0)\"?" }
    }

    /// Damerau–Levenshtein distance (adjacent swaps count as one edit, as in "pyhton").
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            previousPrevious = previous
            previous = current
        }
        return previous[b.count]
    }
}
