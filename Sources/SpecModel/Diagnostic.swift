/// How bad a diagnostic is: errors make a spec invalid, warnings do not.
public enum Severity: String, Sendable, Codable, Comparable {
    case warning
    case error

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        lhs == .warning && rhs == .error
    }
}

/// A position in a source file, 1-based as editors count.
public struct SourceLocation: Sendable, Hashable, Codable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = max(1, line)
        self.column = max(1, column)
    }

    /// The first character of a file.
    public static let start = SourceLocation(line: 1, column: 1)
}

/// One problem found in a spec file, printed as `path:line:column: error: message`.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public var severity: Severity
    public var file: String
    public var location: SourceLocation
    public var message: String

    public init(_ severity: Severity, file: String, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.file = file
        self.location = location
        self.message = message
    }

    public var description: String {
        "\(file.printable):\(location.line):\(location.column): \(severity.rawValue): \(message.printableLines)"
    }
}

extension Array where Element == Diagnostic {
    /// True when at least one diagnostic is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// Diagnostics in reading order: by file, then line, then column.
    public func sortedForDisplay() -> [Diagnostic] {
        sorted {
            ($0.file, $0.location.line, $0.location.column, $0.message)
                < ($1.file, $1.location.line, $1.location.column, $1.message)
        }
    }
}
