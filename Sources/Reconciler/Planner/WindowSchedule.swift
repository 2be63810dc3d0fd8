import Foundation
import SpecModel

/// When promotion windows are open, in their own time zones.
public enum WindowSchedule {
    /// True when at least one window is open at `date` (no windows: always open).
    public static func isOpen(_ windows: [Window], at date: Date) -> Bool {
        windows.isEmpty || windows.contains { isOpen($0, at: date) }
    }

    /// The next time after `date` when a window opens.
    public static func nextOpening(_ windows: [Window], after date: Date) -> Date? {
        windows.compactMap { nextOpening($0, after: date) }.min()
    }

    static func isOpen(_ window: Window, at date: Date) -> Bool {
        let calendar = calendar(for: window)
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        guard let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return false }
        let minutes = hour * 60 + minute
        let days = Set(window.days.map(\.calendarWeekday))
        if window.from < window.to {
            return days.contains(weekday) && minutes >= window.from.minutes && minutes < window.to.minutes
        }
        let yesterday = weekday == 1 ? 7 : weekday - 1
        return (days.contains(weekday) && minutes >= window.from.minutes)
            || (days.contains(yesterday) && minutes < window.to.minutes)
    }

    static func nextOpening(_ window: Window, after date: Date) -> Date? {
        let calendar = calendar(for: window)
        let days = Set(window.days.map(\.calendarWeekday))
        let startOfToday = calendar.startOfDay(for: date)
        for offset in 0...7 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: startOfToday),
                days.contains(calendar.component(.weekday, from: day)),
                let opening = calendar.date(
                    bySettingHour: window.from.minutes / 60, minute: window.from.minutes % 60, second: 0, of: day),
                opening > date
            else { continue }
            return opening
        }
        return nil
    }

    static func calendar(for window: Window) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: window.timeZoneIdentifier) ?? TimeZone(identifier: "UTC") ?? .current
        return calendar
    }

    /// "Mon–Thu 09:00–16:00 America/Sao_Paulo"
    public static func describe(_ window: Window) -> String {
        "\(describeDays(window.days)) \(window.from)–\(window.to) \(window.timeZoneIdentifier)"
    }

    static func describeDays(_ days: [Weekday]) -> String {
        let order = Weekday.allCases
        let sorted = Set(days).sorted { order.firstIndex(of: $0) ?? 0 < order.firstIndex(of: $1) ?? 0 }
        let names = sorted.map { $0.rawValue.prefix(1).uppercased() + $0.rawValue.dropFirst() }
        let indices = sorted.compactMap { order.firstIndex(of: $0) }
        let contiguous = indices.count > 2 && zip(indices, indices.dropFirst()).allSatisfy { $1 == $0 + 1 }
        guard contiguous, let first = names.first, let last = names.last else { return names.joined(separator: ",") }
        return "\(first)–\(last)"
    }
}

/// "14h 3m", "7m 12s": how long until something happens.
public func humanDuration(_ seconds: TimeInterval) -> String {
    let total = max(0, Int(seconds.rounded(.up)))
    let days = total / 86_400
    let hours = total % 86_400 / 3_600
    let minutes = total % 3_600 / 60
    let secs = total % 60
    if days > 0 { return "\(days)d \(hours)h" }
    if hours > 0 { return "\(hours)h \(minutes)m" }
    if minutes > 0 { return "\(minutes)m \(secs)s" }
    return "\(secs)s"
}
