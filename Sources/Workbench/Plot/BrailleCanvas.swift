/// A grid of terminal cells, each either braille dots (2 wide, 4 high) or a block element
/// of a bar. Dots are addressed in dot coordinates: x from the left, y from the top.
struct BrailleCanvas {
    enum Cell: Equatable {
        case empty
        case dots(UInt8, PlotRole)
        case block(Character, PlotRole)
    }

    let columns: Int
    let rows: Int
    private(set) var cells: [Cell]

    init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
        cells = Array(repeating: .empty, count: columns * rows)
    }

    var dotWidth: Int { columns * 2 }
    var dotHeight: Int { rows * 4 }

    /// Bit of the dot at (dx, dy) inside a cell, as Unicode's braille block numbers them.
    private static let bits: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]

    /// Sets one dot. A cell already holding a bar block keeps it (bars stay readable).
    mutating func set(_ x: Int, _ y: Int, _ role: PlotRole) {
        guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
        let i = (y / 4) * columns + x / 2
        let bit = Self.bits[x % 2][y % 4]
        switch cells[i] {
        case .block: return
        case .empty: cells[i] = .dots(bit, role)
        case .dots(let b, let r): cells[i] = .dots(b | bit, role == .data ? role : r)
        }
    }

    /// A straight line of dots (Bresenham).
    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ role: PlotRole) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            set(x, y, role)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// Partial blocks from one eighth to seven eighths of a cell.
    private static let eighths: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇"]

    /// A vertical bar in `column` rising `eighths` eighths of a cell from the bottom row.
    mutating func bar(column: Int, eighths: Int, _ role: PlotRole) {
        guard column >= 0, column < columns, eighths > 0 else { return }
        let total = min(eighths, rows * 8)
        for k in 0..<((total + 7) / 8) {
            let row = rows - 1 - k
            let left = total - k * 8
            cells[row * columns + column] = .block(left >= 8 ? "█" : Self.eighths[left - 1], role)
        }
    }

    /// The cell at a row and column.
    func cell(_ row: Int, _ column: Int) -> Cell { cells[row * columns + column] }

    /// The character of a cell.
    static func character(_ c: Cell) -> Character {
        switch c {
        case .empty: return " "
        case .block(let ch, _): return ch
        case .dots(let b, _): return Character(Unicode.Scalar(0x2800 + UInt32(b)) ?? " ")
        }
    }

    /// The role of a cell's content, nil when empty.
    static func role(_ c: Cell) -> PlotRole? {
        switch c {
        case .empty: return nil
        case .block(_, let r), .dots(_, let r): return r
        }
    }
}
