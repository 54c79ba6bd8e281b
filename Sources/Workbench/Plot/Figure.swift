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
    func fx(_ x: Double) -> Double { (x - xMin) / (xMax - xMin) }
    /// The position of `y` in [0, 1] up the y range.
    func fy(_ y: Double) -> Double { (y - yMin) / (yMax - yMin) }
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
