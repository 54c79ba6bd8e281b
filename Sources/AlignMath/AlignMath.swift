/// AlignMath: the native numerics of moonlab. Pure Swift, no Lua.
///
/// Tensors and kernels along the last axis (`Tensor`, `Dist`), policy-gradient
/// arithmetic (`RL`), preference losses (`Preference`), metrics (`Metrics`),
/// random generators and samplers (`Random`, `Sampling`).
public enum AlignMath {
    public static let version = "0.1.0"
}
