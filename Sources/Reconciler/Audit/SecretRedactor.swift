import Foundation

/// Replaces secret values, and their common encodings, with a marker wherever text leaves
/// the agent: audit records, step logs, status and notifications.
public struct SecretRedactor: Sendable {
    public static let marker = "[REDACTED]"
    private let needles: [String]

    /// Secrets shorter than 4 characters are ignored: redacting them would mangle ordinary text.
    public init(secrets: [String]) {
        var forms = Set<String>()
        for secret in secrets where secret.count >= 4 {
            forms.insert(secret)
            forms.insert(Data(secret.utf8).base64EncodedString())
            forms.insert(Data(secret.utf8).base64EncodedString().trimmingCharacters(in: CharacterSet(charactersIn: "=")))
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { forms.insert(encoded) }
        }
        needles = forms.sorted { $0.count > $1.count }
    }

    /// Nothing to redact.
    public static let none = SecretRedactor(secrets: [])

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
}
