/// A picture before it is drawn: ranges, ticks, marks and notes. The terminal renderer and
/// the SVG writer draw the same `Figure`, so both show the same picture.
struct Figure {
    var title: String?
    var xName: String?
    var yName: String?
    var xMin = 0.0, xMax = 1.0, yMin = 0.0, yMax = 1.0
    var xTicks: [PlotTick] = []
    var yTicks: [PlotTick] = []
    var marks: [PlotMark] = []
    /// Rows of labels under the x axis at data positions (the bin counts of a calibration plot).
    var labelRows: [PlotLabelRow] = []
    /// Lines under the picture: n, skipped values, bin width, ECE.
    var notes: [String] = []

    /// The position of `x` in [0, 1] across the x range.
    func fx(_ x: Double) -> Double { Figure.unit(x, xMin, xMax) }
    /// The position of `y` in [0, 1] up the y range.
    func fy(_ y: Double) -> Double { Figure.unit(y, yMin, yMax) }

    /// Where `v` lies in [lo, hi] as a fraction, also when `hi - lo` overflows (data that spans
    /// ±1e308): then the halves are subtracted instead.
    static func unit(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
        let span = hi - lo
        if span.isFinite { return (v - lo) / span }
        return (v / 2 - lo / 2) / (hi / 2 - lo / 2)
    }

    /// A range around equal ends: numpy's ±0.5, or more where 0.5 is lost in the rounding
    /// of a huge value (1e308 + 0.5 == 1e308), so the range never has zero width.
    static func widened(_ lo: Double, _ hi: Double) -> (Double, Double) {
        guard lo == hi else { return (lo, hi) }
        if lo - 0.5 < lo && hi + 0.5 > hi { return (lo - 0.5, hi + 0.5) }
        let pad = abs(lo) * 1e-3
        return (lo - pad, hi + pad)
    }
}

extension Int {
    /// A position on a grid of `limit` cells (0..<limit) from a real coordinate: rounded, and
    /// NaN, infinities and far-off values kept just outside the grid (-1 or `limit`), so a
    /// conversion never traps and a line to an off-grid point stays short.
    init(plotCell x: Double, limit: Int) {
        if x.isNaN { self = -1; return }
        self = Int(Swift.min(Swift.max(x.rounded(), -1), Double(limit)))
    }
}

/// What a mark stands for; decides its colour.
enum PlotRole { case data, reference }

/// A drawable layer of a figure.
enum PlotMark {
    /// Bars from 0 up to `height`, between `x0` and `x1`.
    case bars([PlotBar], PlotRole)
    /// Unconnected points.
    case points([PlotPoint], PlotRole)
    /// Polylines; a break between two runs is a gap (a skipped NaN).
    case lines([[PlotPoint]], PlotRole)
}

struct PlotBar: Equatable { var x0: Double; var x1: Double; var height: Double }
struct PlotPoint: Equatable { var x: Double; var y: Double }
struct PlotTick: Equatable { var value: Double; var label: String }
struct PlotLabelRow { var name: String; var items: [PlotTick] }

/// A problem with the input or the requested size; the Lua glue prefixes the function name.
struct PlotError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
