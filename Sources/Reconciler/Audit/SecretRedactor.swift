import Foundation

/// Replaces secret values, and their common encodings, with a marker wherever text leaves
/// the agent: audit records, step logs (while they are written), status and notifications.
/// The encodings: as is; percent-encoded (upper- and lower-case hex); base64 and base64url at each of
/// the three byte offsets a secret can have inside a longer encoded text.
public struct SecretRedactor: Sendable {
    public static let marker = "[REDACTED]"
    private let needles: [String]

    /// Secrets shorter than 4 characters are ignored: redacting them would mangle ordinary text.
    public init(secrets: [String]) {
        var forms = Set<String>()
        for secret in secrets where secret.count >= 4 {
            forms.insert(secret)
            forms.formUnion(Self.base64Forms(of: Array(secret.utf8)))
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
                forms.insert(encoded)
                forms.insert(Self.lowercasingPercentEscapes(encoded))
            }
        }
        needles = forms.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
    }

    /// Nothing to redact.
    public static let none = SecretRedactor(secrets: [])

    /// The longest form, in bytes: a stream redactor holds back one byte less.
    var longestNeedle: Int { needles.first?.utf8.count ?? 0 }

    /// The forms as bytes, longest first.
    var needleBytes: [[UInt8]] { needles.map { Array($0.utf8) } }

    public func redact(_ text: String) -> String {
        needles.reduce(text) { $0.replacingOccurrences(of: $1, with: Self.marker) }
    }

    public func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): return .string(redact(text))
        case .array(let items): return .array(items.map(redact))
        case .object(let members): return .object(members.mapValues(redact))
        case .int, .bool, .null: return value
        }
    }

    /// The characters of base64(prefix + secret + suffix) that depend on the secret's bytes alone, for
    /// each of the three offsets (0, 1, 2 bytes before it), in the standard and the URL-safe alphabet.
    static func base64Forms(of secret: [UInt8]) -> Set<String> {
        var forms = Set<String>()
        for offset in 0..<3 {
            let encoded = Array(Data([UInt8](repeating: 0, count: offset) + secret + [0, 0]).base64EncodedString().utf8)
            let first = (8 * offset + 5) / 6
            let last = (8 * (offset + secret.count)) / 6
            guard last > first, last <= encoded.count else { continue }
            let standard = String(decoding: encoded[first..<last], as: UTF8.self)
            forms.insert(standard)
            forms.insert(standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"))
        }
        return forms
    }

    private static func lowercasingPercentEscapes(_ text: String) -> String {
        var result = ""
        var remaining = 0
        for character in text {
            if character == "%" {
                remaining = 2
                result.append(character)
            } else if remaining > 0 {
                remaining -= 1
                result += character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// Redacts a byte stream read in chunks, before the bytes reach a file: it holds back the last
/// (longest form − 1) bytes, so a secret split across two reads is still found.
struct StreamRedactor {
    private let needles: [[UInt8]]
    private let holdBack: Int
    private let marker = Array(SecretRedactor.marker.utf8)
    private var pending: [UInt8] = []

    init(_ redactor: SecretRedactor) {
        needles = redactor.needleBytes
        holdBack = max(0, redactor.longestNeedle - 1)
    }

    /// The redacted bytes that can be written now.
    mutating func feed(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        guard !needles.isEmpty else { return Array(bytes) }
        pending += bytes
        return drain(upTo: pending.count - holdBack)
    }

    /// Whatever is held back, redacted: the stream ended.
    mutating func finish() -> [UInt8] { drain(upTo: pending.count) }

    /// Emits the bytes before `limit`, replacing every form that starts there (it may end after `limit`).
    private mutating func drain(upTo limit: Int) -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        scan: while index < limit {
            for needle in needles where pending[index] == needle[0] && index + needle.count <= pending.count {
                if pending[index..<(index + needle.count)].elementsEqual(needle) {
                    output += marker
                    index += needle.count
                    continue scan
                }
            }
            output.append(pending[index])
            index += 1
        }
        pending.removeFirst(min(index, pending.count))
        return output
    }
}
