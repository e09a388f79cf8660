using System.Reflection;

namespace Millrace;

/// <summary>Names the message type a class is published as, e.g. <c>[MessageType("order.created")]</c>.</summary>
/// <param name="name">The type name on the wire.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class MessageTypeAttribute(string name) : Attribute
{
    /// <summary>The type name on the wire.</summary>
    public string Name { get; } = name;

    /// <summary>The wire name of <typeparamref name="T"/>: its attribute, else the class name.</summary>
    public static string NameOf<T>() => NameOf(typeof(T));

    /// <summary>The wire name of <paramref name="type"/>: its attribute, else the class name.</summary>
    public static string NameOf(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.GetCustomAttribute<MessageTypeAttribute>()?.Name ?? type.Name;
    }
}
