import Foundation
import Reconciler
import SpecModel

/// How values look on the page. Text from the repository or a step is made printable here (control
/// and bidi characters written as escapes); HTML escaping is the template engine's, on every `{{…}}`.
enum PageFormat {
    /// Text from outside (commit subjects, names, step output) on one line, controls visible.
    static func text(_ value: String) -> String { value.printable }

    /// Multi-line text (a log tail), controls but line breaks visible.
    static func lines(_ value: String) -> String { value.printableLines }

    private static let timeStyle = Date.VerbatimFormatStyle(
        format:
            "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) UTC",
        timeZone: .gmt, calendar: Calendar(identifier: .gregorian))

    /// `2026-11-27 20:56:32 UTC`.
    static func time(_ date: Date) -> String { timeStyle.format(date) }

    /// An audit time (RFC 3339) as `time`, or as it is when it does not parse.
    static func time(_ audit: String) -> String { AuditTime.parse(audit).map(time) ?? audit }

    /// `3 min ago`, `2 h ago`: how fresh, for someone paged at night.
    static func age(_ date: Date, now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        if seconds < 60 { return "\(seconds) s ago" }
        if seconds < 3600 { return "\(seconds / 60) min ago" }
        if seconds < 86_400 { return "\(seconds / 3600) h \(seconds % 3600 / 60) min ago" }
        return "\(seconds / 86_400) d ago"
    }

    /// `8.7 s`, `1 min 3 s`, `12 ms`.
    static func duration(milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        if milliseconds < 60_000 { return String(format: "%.1f s", Double(milliseconds) / 1000) }
        let seconds = milliseconds / 1000
        if seconds < 3600 { return "\(seconds / 60) min \(seconds % 60) s" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    /// One path segment of a URL: names are percent-encoded so a `/` or `?` in them stays inside it.
    static func segment(_ value: String) -> String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(contentsOf: String(format: "%02X", byte).utf8)
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// RFC 3986's unreserved characters: letters, digits, `-._~`.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "~")
        }
    }

    /// A query string from the pairs whose value is set.
    static func query(_ pairs: [(String, String?)]) -> String {
        let set = pairs.compactMap { name, value in value.flatMap { $0.isEmpty ? nil : "\(name)=\(segment($0))" } }
        return set.isEmpty ? "" : "?" + set.joined(separator: "&")
    }

    static func stageURL(_ pipeline: String, _ stage: String) -> String {
        "/pipelines/\(segment(pipeline))/stages/\(segment(stage))"
    }

    static func promotionURL(_ id: Int64) -> String { "/promotions/\(id)" }

    /// The colour family of a phase (a CSS class: `ok`, `run`, `wait`, `frz`, `bad`, `unk`); the word is always
    /// shown with it.
    static func tone(_ phase: Phase) -> String {
        switch phase {
        case .inSync: return "ok"
        case .promoting, .outOfSync: return "run"
        case .waitingUpstream, .waitingApproval, .waitingWindow: return "wait"
        case .frozen: return "frz"
        case .failed, .drifted, .invalid: return "bad"
        }
    }

    static func tone(_ health: Health) -> String {
        switch health {
        case .healthy: return "ok"
        case .unknown: return "unk"
        case .warning: return "wait"
        case .critical: return "bad"
        }
    }

    /// The tone of a promotion's outcome (`succeeded`, `rolled-back`, …).
    static func tone(outcome: String) -> String {
        switch outcome {
        case "succeeded", "passed": return "ok"
        case "running": return "run"
        case "warning": return "wait"
        default: return "bad"
        }
    }

    /// A commit as the templates show it: short id, subject, author; the id alone when the mirror lacks it.
    static func commit(_ id: String?, _ commits: CommitLookup) -> [String: Any]? {
        guard let id else { return nil }
        var fields: [String: Any] = ["id": id, "short": String(id.prefix(12))]
        if let summary = commits.summary(id) {
            fields["subject"] = text(summary.subject)
            fields["author"] = text(summary.authorName.isEmpty ? summary.authorEmail : summary.authorName)
            fields["email"] = text(summary.authorEmail)
            fields["time"] = time(summary.time)
        }
        return fields
    }
}

extension PageFormat {
    /// Rows for a table section: nil when there are none, so the template shows its "none" line instead.
    static func table(_ rows: [[String: Any]]) -> [String: Any]? {
        rows.isEmpty ? nil : ["rows": rows]
    }
}
