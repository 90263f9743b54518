import Foundation
import Journal

/// Writing to stdout and stderr, and formatting for people.
enum Output {
    /// Writes `bytes` to a new file at `path`; an existing file is never overwritten.
    static func writeNewFile(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
        } catch {
            throw JournalError.invalidArgument("cannot write \(path): \(error.localizedDescription) (an existing file is never overwritten)")
        }
    }

    static func line(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func json(_ value: JSONValue) {
        line(CanonicalJSON.string(value))
    }

    /// `1234567` → `1,234,567`.
    static func count(_ value: some BinaryInteger) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// `1, "customer"` → `1 customer`, `1234, "event"` → `1,234 events`.
    static func count(_ value: some BinaryInteger, _ noun: String) -> String {
        count(value) + " " + (value == 1 ? noun : noun + "s")
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = tableWidths(header, rows)
        return ([tableLine(header, widths)] + rows.map { tableLine($0, widths) }).joined(separator: "\n")
    }

    /// The width of each column of a table: its widest cell, header included.
    static func tableWidths(_ header: [String], _ rows: [[String]]) -> [Int] {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        return widths
    }

    /// One line of a table: the cells padded to `widths` (a wider cell is written whole), two spaces apart.
    static func tableLine(_ cells: [String], _ widths: [Int]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 || index >= widths.count ? cell : cell.padding(toLength: max(widths[index], cell.count), withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }

    /// A one-line digest of a payload: `queueWaitSeconds=95 machineDown=true …`, cut at `width`.
    static func summary(_ payload: JSONValue, width: Int = 72) -> String {
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

    /// The table of events used by `history` and `log`.
    static func eventTable(_ events: [RecordedEvent], withCustomer: Bool) -> String {
        var header = ["POS", "VER"]
        if withCustomer { header.append("CUSTOMER") }
        header += ["OCCURRED", "RECORDED", "TYPE", "CASE", "PAYLOAD"]
        let rows = events.map { event -> [String] in
            var row = [String(event.position), String(event.streamVersion)]
            if withCustomer { row.append(event.customerId) }
            row += [
                event.occurredAt, String(event.recorded.rfc3339.prefix(16)) + "Z", event.type, event.caseId ?? "-",
                summary(event.payloadJSON),
            ]
            return row
        }
        return table(header, rows)
    }
}
