import Foundation
import Yams

/// The parts of a stage an approval vouches for. An approval counts only while these are
/// unchanged since the commit that added it: changing what a stage runs needs fresh approvals.
public enum StageBinding {
    /// The bound fields, in the order they are reported.
    public static let fields = ["steps", "verify", "rollback", "vars", "approvals", "windows", "timeout", "checkout"]

    /// Each bound field that differs, with its changed lines: `- ` what was approved, `+ ` what runs now.
    public static func changes(from approved: Stage, to current: Stage) -> [(field: String, lines: [String])] {
        let old = rendered(approved)
        let new = rendered(current)
        return fields.filter { old[$0] != new[$0] }.map { ($0, lineDiff(old[$0] ?? [], new[$0] ?? [])) }
    }

    /// The bound fields that differ between the approved stage and the current one.
    public static func changedFields(from approved: Stage, to current: Stage) -> [String] {
        changes(from: approved, to: current).map(\.field)
    }

    /// The difference as lines: a `field:` header before each field's changed lines.
    public static func difference(from approved: Stage, to current: Stage) -> [String] {
        lines(of: changes(from: approved, to: current))
    }

    /// `changes` as the lines `plan` prints.
    public static func lines(of changes: [(field: String, lines: [String])]) -> [String] {
        changes.flatMap { ["\($0.field):"] + $0.lines }
    }

    /// Each bound field as YAML lines (an absent field has none).
    private static func rendered(_ stage: Stage) -> [String: [String]] {
        [
            "steps": yaml(stage.steps), "verify": yaml(stage.verify), "rollback": yaml(stage.rollback),
            "vars": yaml(stage.vars.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }),
            "approvals": yaml(stage.approvals), "windows": yaml(stage.windows), "timeout": yaml(stage.timeout?.text),
            "checkout": yaml(stage.checkout),
        ]
    }

    private static func yaml<T: Encodable>(_ value: T?) -> [String] {
        guard let value else { return [] }
        let encoder = YAMLEncoder()
        encoder.options = YAMLEncoder.Options(width: -1, sortKeys: true)  // one line per value: a diff line is a value
        let text = (try? encoder.encode(value)) ?? String(describing: value)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Changed lines only, in reading order; the unchanged ones are left out.
    private static func lineDiff(_ old: [String], _ new: [String]) -> [String] {
        let difference = new.difference(from: old)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var lines: [String] = []
        var (oldIndex, newIndex) = (0, 0)
        while oldIndex < old.count || newIndex < new.count {
            if removed.contains(oldIndex), oldIndex < old.count {
                lines.append("- " + old[oldIndex])
                oldIndex += 1
            } else if inserted.contains(newIndex), newIndex < new.count {
                lines.append("+ " + new[newIndex])
                newIndex += 1
            } else {
                oldIndex += 1
                newIndex += 1
            }
        }
        return lines
    }
}
