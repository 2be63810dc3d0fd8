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
            report(SourceLocation(line: mark.line, column: mark.column), "YAML syntax: \(problem)\(detail)")
        case .reader(let problem, let offset, _, let yaml):
            report(Self.location(ofUTF8Offset: offset ?? 0, in: yaml), "YAML cannot read the file: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            report(SourceLocation(line: context.mark.line, column: context.mark.column), "duplicate key \(keys) in one mapping")
        default:
            report(.start, "YAML could not be read: \(yamlError)")
        }
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
