import Foundation

/// A length of time written as `90s`, `15m`, `2h`, `1d` or a sum such as `1h30m`.
public struct SpecDuration: Sendable, Hashable, Codable, CustomStringConvertible {
    public let milliseconds: Int64
    public let text: String

    /// Parses the spec notation; nil when the text is not a duration.
    public init?(_ text: String) {
        var total: Int64 = 0
        var digits = ""
        var index = text.startIndex
        guard !text.isEmpty else { return nil }
        while index < text.endIndex {
            let character = text[index]
            if character.isASCII, character.isNumber {
                digits.append(character)
                index = text.index(after: index)
                continue
            }
            let unitEnd = text[index...].firstIndex { $0.isNumber } ?? text.endIndex
            guard let amount = Int64(digits), let scale = Self.scale[String(text[index..<unitEnd])] else { return nil }
            let (product, overflow) = amount.multipliedReportingOverflow(by: scale)
            guard !overflow, total <= Int64.max - product else { return nil }
            total += product
            digits = ""
            index = unitEnd
        }
        guard digits.isEmpty else { return nil }
        self.milliseconds = total
        self.text = text
    }

    private static let scale: [String: Int64] = ["ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]

    public var seconds: Double { Double(milliseconds) / 1000 }
    public var timeInterval: TimeInterval { seconds }
    public var description: String { text }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = SpecDuration(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a duration")
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// A dbt-style threshold such as `>10` or `>=1`, applied to a measured count.
public struct Threshold: Sendable, Hashable, Codable, CustomStringConvertible {
    public let inclusive: Bool
    public let limit: Int

    /// Parses `>N` or `>=N`; nil for anything else.
    public init?(_ text: String) {
        let inclusive = text.hasPrefix(">=")
        let number = text.dropFirst(inclusive ? 2 : 1)
        guard text.hasPrefix(">"), !number.isEmpty, number.allSatisfy(\.isASCII), let limit = Int(number), limit >= 0 else {
            return nil
        }
        self.inclusive = inclusive
        self.limit = limit
    }

    /// Whether a measured count crosses this threshold.
    public func isCrossed(by value: Double) -> Bool {
        inclusive ? value >= Double(limit) : value > Double(limit)
    }

    public var description: String { (inclusive ? ">=" : ">") + String(limit) }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = Threshold(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a threshold")
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A time of day, `HH:MM`, counted in minutes since midnight (24:00 is 1440).
public struct ClockTime: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let minutes: Int

    /// Parses `HH:MM` from 00:00 to 24:00.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...23).contains(hours) && (0...59).contains(minutes) || (hours == 24 && minutes == 0)
        else { return nil }
        self.minutes = hours * 60 + minutes
    }

    public var description: String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }

    public static func < (lhs: ClockTime, rhs: ClockTime) -> Bool { lhs.minutes < rhs.minutes }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = ClockTime(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not HH:MM")
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A day of the week as windows name them.
public enum Weekday: String, Sendable, Codable, CaseIterable {
    case mon, tue, wed, thu, fri, sat, sun

    /// Foundation's `Calendar` weekday number (Sunday is 1).
    public var calendarWeekday: Int {
        switch self {
        case .sun: return 1
        case .mon: return 2
        case .tue: return 3
        case .wed: return 4
        case .thu: return 5
        case .fri: return 6
        case .sat: return 7
        }
    }
}

/// Whether a stage follows upstream by itself or waits for approvals.
public enum PromotionMode: String, Sendable, Codable {
    case auto
    case manual
}
