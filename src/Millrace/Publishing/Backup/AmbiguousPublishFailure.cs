namespace Millrace;

/// <summary>What the backup producer does when a publish failed after its command may have reached Redis.</summary>
public enum AmbiguousPublishFailure
{
    /// <summary>Journal it: it is never lost, but it may be delivered twice (same message id) if Redis had in fact added it.</summary>
    Journal,

    /// <summary>Throw the error to the caller, as the plain publisher does: nothing is journaled, the caller decides.</summary>
    Throw,
}
