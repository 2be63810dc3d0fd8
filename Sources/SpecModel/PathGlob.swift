/// A repository path pattern: `*` and `?` within one segment, `**` across segments.
/// A pattern without wildcards also matches everything below it, like a directory.
public struct PathGlob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let segments: [Substring]
    /// The leading segments without wildcards, joined: a path that does not start with them (as a whole
    /// directory or file name) cannot match. Empty when the pattern starts with a wildcard.
    public let literalPrefix: String
    /// The pattern is its literal prefix and everything below (`app/**`, or a directory name).
    private let prefixIsEnough: Bool

    /// Nil for patterns that cannot name a path inside a repository.
    public init?(_ pattern: String) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false)
        guard !pattern.isEmpty, !pattern.hasPrefix("/"), !segments.contains(".."),
            !segments.dropLast().contains("")
        else { return nil }
        self.pattern = pattern
        let trimmed = segments.last == "" ? Array(segments.dropLast()) : segments
        let hasWildcard = pattern.contains("*") || pattern.contains("?")
        let all = hasWildcard ? trimmed : trimmed + ["**"]
        self.segments = all
        let literal = all.prefix { !$0.contains("*") && !$0.contains("?") }
        literalPrefix = literal.joined(separator: "/")
        prefixIsEnough = !literal.isEmpty && all.count == literal.count + 1 && all.last == "**"
    }

    public var description: String { pattern }

    /// Whether a slash-separated repository path matches.
    public func matches(_ path: String) -> Bool {
        if !literalPrefix.isEmpty {
            let bytes = path.utf8
            guard bytes.starts(with: literalPrefix.utf8) else { return false }
            let next = bytes.dropFirst(literalPrefix.utf8.count).first
            guard next == nil || next == UInt8(ascii: "/") else { return false }
            if prefixIsEnough { return true }
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return Self.match(segments[...], parts[...])
    }

    /// True when any of the globs matches, or when there are none (no filter).
    public static func anyMatches(_ globs: [PathGlob], _ path: String) -> Bool {
        globs.isEmpty || globs.contains { $0.matches(path) }
    }

    private static func match(_ pattern: ArraySlice<Substring>, _ path: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            for start in path.startIndex...path.endIndex where match(rest, path[start...]) {
                return true
            }
            return false
        }
        guard let first = path.first, segmentMatches(Array(head), Array(first)) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    private static func segmentMatches(_ pattern: [Character], _ text: [Character]) -> Bool {
        var memo = [[Bool?]](repeating: [Bool?](repeating: nil, count: text.count + 1), count: pattern.count + 1)
        func go(_ p: Int, _ t: Int) -> Bool {
            if let known = memo[p][t] { return known }
            let result: Bool
            if p == pattern.count {
                result = t == text.count
            } else if pattern[p] == "*" {
                result = go(p + 1, t) || (t < text.count && go(p, t + 1))
            } else {
                result = t < text.count && (pattern[p] == "?" || pattern[p] == text[t]) && go(p + 1, t + 1)
            }
            memo[p][t] = result
            return result
        }
        return go(0, 0)
    }
}
