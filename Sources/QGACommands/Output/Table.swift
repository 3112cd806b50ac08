/// Column-aligned text tables for the human views.
enum Table {
    /// The lines of a table: `rows` under `header`, each column padded to its widest cell,
    /// two spaces apart. Every cell is escaped (`Console.escaped`) before the widths are
    /// measured, so that a guest's text lines up as printed (`Console.line` leaves escaped
    /// text as it is). Columns in `rightAligned` are padded on the left (numbers).
    static func lines(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
        let cells = ([header] + rows).map { row in row.map { String(decoding: Console.escaped($0), as: UTF8.self) } }
        let columns = header.count
        let widths = (0..<columns).map { column in cells.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return cells.map { line in
            var text = ""
            // Where the text ends without the padding after the last non-empty cell: no
            // line ends in spaces of ours.
            var end = 0
            for column in 0..<columns {
                let cell = column < line.count ? line[column] : ""
                let padding = String(repeating: " ", count: max(0, widths[column] - cell.count))
                if rightAligned.contains(column) {
                    text += padding + cell
                } else {
                    text += cell
                    if column < columns - 1 { text += padding }
                }
                if !cell.isEmpty { end = text.count - (rightAligned.contains(column) || column == columns - 1 ? 0 : padding.count) }
                if column < columns - 1 { text += "  " }
            }
            return String(text.prefix(end))
        }
    }

    /// `name: value` lines with the values aligned, for one object's fields; fields
    /// without a value are left out.
    static func fields(_ pairs: [(String, String?)]) -> [String] {
        let present = pairs.compactMap { pair in pair.1.map { (pair.0 + ":", $0) } }
        let width = present.map(\.0.count).max() ?? 0
        return present.map { name, value in
            name + String(repeating: " ", count: width - name.count + 1) + String(decoding: Console.escaped(value), as: UTF8.self)
        }
    }
}
