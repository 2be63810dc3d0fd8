import Foundation

extension String {
    /// The text with every control character but tab (C0, DEL, C1, bidi controls; newlines too) written as an escape such as
    /// `\u{1B}`, so that text from a repository or a step (file names, step output, commit subjects)
    /// cannot move a terminal's cursor, change its colours, set its title or start a forged line.
    public var printable: String { escapingControls(keepNewlines: false) }

    /// `printable`, but line breaks stay (multi-line messages of the agent's own making).
    public var printableLines: String { escapingControls(keepNewlines: true) }

    private func escapingControls(keepNewlines: Bool) -> String {
        guard unicodeScalars.contains(where: { Self.isControl($0) }) else { return self }
        var result = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if Self.isControl(scalar), !(keepNewlines && scalar == "\n") {
                result.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || (0x7F...0x9F).contains(scalar.value) || isBidiControl(scalar)
    }

    /// Direction overrides and isolates reorder what follows them on screen ("Trojan Source"): a commit
    /// subject could show a different text than it holds, in a terminal or on the web page.
    private static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
            || scalar.value == 0x200E || scalar.value == 0x200F || scalar.value == 0x061C
    }
}
