import Foundation
import Yams

extension SpecFile {
    mutating func reportYAML(_ error: Error) {
        guard let yamlError = error as? YamlError else {
            return report(.start, "YAML could not be read: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
            let started = context.map { "\($0.mark.line):\($0.mark.column)" }
            let advice = Self.syntaxAdvice(problem, started: started).map { "\($0) — " } ?? ""
            report(SourceLocation(line: mark.line, column: mark.column), "YAML syntax: \(advice)\(problem)\(detail)")
        case .reader(let problem, let offset, _, let yaml):
            report(Self.location(ofUTF8Offset: offset ?? 0, in: yaml), "YAML cannot read the file: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            report(SourceLocation(line: context.mark.line, column: context.mark.column), "duplicate key \(keys) in one mapping")
        default:
            report(.start, "YAML could not be read: \(yamlError)")
        }
    }

    /// What libyaml's commonest complaints mean for someone editing a spec, said first; libyaml's own
    /// words follow, for searching.
    static func syntaxAdvice(_ problem: String, started: String?) -> String? {
        let since = started.map { " that starts at \($0)" } ?? ""
        if problem.contains("did not find expected '-' indicator") {
            return "this line is indented differently from the list\(since): indent it like the keys of the item "
                + "above, or start a new item with '- ' at the list's column"
        }
        if problem.contains("did not find expected key") {
            return "this line's indentation matches no key of the mapping\(since): align it with that mapping's "
                + "keys (spaces only), or quote a value that runs on"
        }
        if problem.contains("mapping values are not allowed") {
            return "a ': ' inside an unquoted value (such as run: echo a: b) starts a new key: quote the value"
        }
        if problem.contains("found character that cannot start any plain scalar") {
            return "a tab, or a character YAML reserves (@ or `), starts this value: indent with spaces, quote the value"
        }
        return nil
    }

    static func decodeUTF8(_ bytes: Data) -> String? {
        var body = bytes
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        return String(data: body, encoding: .utf8)
    }

    /// Line and column of the first byte that breaks UTF-8, for the "not UTF-8" message.
    static func firstInvalidUTF8(in bytes: Data) -> SourceLocation {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var line = 1
        var column = 1
        while case .scalarValue(let scalar) = decoder.decode(&iterator) {
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return SourceLocation(line: line, column: column)
    }

    static func location(ofUTF8Offset offset: Int, in text: String) -> SourceLocation {
        let prefix = text.utf8.prefix(offset)
        let line = prefix.filter { $0 == 0x0A }.count + 1
        let column = prefix.reversed().prefix { $0 != 0x0A }.count + 1
        return SourceLocation(line: line, column: column)
    }
}
