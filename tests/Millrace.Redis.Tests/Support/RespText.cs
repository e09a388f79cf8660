using System.Text;

namespace Millrace.Redis.Tests.Support;

/// <summary>Helpers for writing and showing raw RESP bytes in protocol tests.</summary>
public static class RespText
{
    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Shows control and non-ASCII characters visibly, for assertion messages.</summary>
    public static string Escape(string text)
    {
        var result = new StringBuilder();
        foreach (var c in text)
        {
            result.Append(c switch
            {
                '\r' => "\\r",
                '\n' => "\\n",
                < ' ' or > '~' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return result.ToString();
    }
}
