using System.Text.RegularExpressions;

namespace Millrace;

/// <summary>
/// Rules for queue, group and consumer names. Queue names follow the seeds' <c>entity.action</c>
/// style: letters, digits, '.', '-' and '_' (no ':' or braces, which the key layout reserves).
/// </summary>
public static partial class QueueName
{
    /// <summary>Longest queue, group or consumer name.</summary>
    public const int MaxLength = 128;

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong with <paramref name="name"/>.</summary>
    public static string Validate(string? name, string what = "queue")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"The {what} name is empty.");
        }

        if (name.Length > MaxLength || !Pattern().IsMatch(name))
        {
            throw new ArgumentException(
                $"The {what} name '{(name.Length > 40 ? name[..40] + "…" : name)}' is not valid: use 1 to {MaxLength} letters, digits, '.', '-' or '_', starting with a letter or digit (e.g. order.created).");
        }

        return name;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
