using System.Globalization;

namespace Millrace;

/// <summary>Stream entry ids (<c>ms-seq</c>): the time part is when Redis added the entry.</summary>
internal static class StreamIds
{
    /// <summary>The milliseconds part of an entry id.</summary>
    public static bool TryGetMilliseconds(string? id, out long milliseconds)
    {
        milliseconds = 0;
        if (string.IsNullOrEmpty(id))
        {
            return false;
        }

        var dash = id.IndexOf('-', StringComparison.Ordinal);
        return long.TryParse(dash < 0 ? id : id[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out milliseconds);
    }
}
