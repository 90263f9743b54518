/// Plain-text tables and payload digests, as the command line and evidence files show them.
public enum TextTable {
    /// Left-aligned columns separated by two spaces.
    public static func render(_ header: [String], _ rows: [[String]]) -> String {
        let widths = widths(header, rows)
        return ([line(header, widths)] + rows.map { line($0, widths) }).joined(separator: "\n")
    }

    /// The width of each column of a table: its widest cell, header included.
    public static func widths(_ header: [String], _ rows: [[String]]) -> [Int] {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        return widths
    }

    /// One line of a table: the cells padded to `widths` (a wider cell is written whole), two spaces apart.
    public static func line(_ cells: [String], _ widths: [Int]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 || index >= widths.count ? cell : cell + String(repeating: " ", count: max(0, widths[index] - cell.count))
        }.joined(separator: "  ")
    }

    /// A one-line digest of a payload: `queueWaitSeconds=95 machineDown=true …`, cut at `width`.
    public static func summary(_ payload: JSONValue, width: Int = 72) -> String {
        guard case .object(let members) = payload else { return CanonicalJSON.string(payload) }
        var text = ""
        for member in members {
            let value: String
            switch member.value {
            case .string(let string): value = string.contains(" ") ? "\"\(string)\"" : string
            default: value = CanonicalJSON.string(member.value)
            }
            text += (text.isEmpty ? "" : " ") + "\(member.key)=\(value)"
            if text.count > width { break }
        }
        return text.count > width ? String(text.prefix(width - 1)) + "…" : text
    }
}
