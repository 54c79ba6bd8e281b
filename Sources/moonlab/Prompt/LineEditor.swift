import LuaShim
#if canImport(Glibc)
import Glibc
#endif
import Workbench

/// The Swift face of LuaShim's libedit line editor.
final class LineEditor {
    enum Input { case line(String), paste(String), interrupted, endOfInput }

    private let editor: OpaquePointer
    /// Kept alive while the editor may call it.
    private var completer: Box?

    final class Box {
        let complete: (String) -> (Int, [String])
        init(_ c: @escaping (String) -> (Int, [String])) { complete = c }
    }

    init?(historyPath: String?) {
        guard let e = mlshim_editor_open("moonlab", historyPath, 1000) else { return nil }
        editor = e
    }

    deinit { mlshim_editor_close(editor) }

    func read(prompt: String) -> Input {
        var status: Int32 = 0
        let p = mlshim_editor_read(editor, prompt, &status)
        switch Int(status) {
        case MLSHIM_READ_INTERRUPTED: return .interrupted
        case MLSHIM_READ_EOF: return .endOfInput
        case MLSHIM_READ_PASTE: return .paste(p.map { String(cString: $0) } ?? "")
        default: return p.map { .line(String(cString: $0)) } ?? .endOfInput
        }
    }

    func addHistory(_ entry: String) { mlshim_editor_add_history(editor, entry) }

    func setCompleter(_ complete: @escaping (String) -> (Int, [String])) {
        let box = Box(complete)
        completer = box
        mlshim_editor_set_completer(editor, { before, wordLen, ctx in
            guard let before, let ctx, let wordLen else { return nil }
            let box = Unmanaged<LineEditor.Box>.fromOpaque(ctx).takeUnretainedValue()
            let (replace, candidates) = box.complete(String(cString: before))
            guard !candidates.isEmpty else { return nil }
            wordLen.pointee = replace
            let joined = candidates.joined(separator: "\n")
            return strdup(joined)
        }, Unmanaged.passUnretained(box).toOpaque())
    }
}
