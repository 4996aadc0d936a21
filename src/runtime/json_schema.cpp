#include "runtime/json_schema.h"

#include <map>

namespace sf {

using nlohmann::json;

JsonSchema::JsonSchema() {
  nodes_.resize(6);
  nodes_[kAny].kind = SchemaNode::Any;
  nodes_[kFreeObject].kind = SchemaNode::Object;
  nodes_[kFreeObject].free_keys = true;
  nodes_[kFreeObject].items = kAny;
  nodes_[kFreeArray].kind = SchemaNode::Array;
  nodes_[kFreeArray].items = kAny;
  nodes_[kFreeString].kind = SchemaNode::String;
  nodes_[kFreeNumber].kind = SchemaNode::Number;
  nodes_[kTrueFalseNull].kind = SchemaNode::Literal;
  nodes_[kTrueFalseNull].literals = {"true", "false", "null"};
}

// Builds nodes from a schema document; $refs resolve against its $defs.
class SchemaCompiler {
 public:
  SchemaCompiler(JsonSchema& s, const json& doc) : s_(s), doc_(doc) {}

  Result<int> compile(const json& j, const std::string& path, int depth) {
    if (depth > 64) return errorf("%s: schema nested too deeply (over 64 levels)", path.c_str());
    if (j.is_boolean()) {
      if (j.get<bool>()) return JsonSchema::kAny;
      return errorf("%s: the schema `false` allows nothing", path.c_str());
    }
    if (!j.is_object()) return errorf("%s: a schema must be an object", path.c_str());
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!known(it.key()))
        return errorf(
            "%s: unsupported schema keyword '%s' (supported: type, properties, "
            "required, additionalProperties, items, minItems, maxItems, minLength, "
            "maxLength, enum, const, anyOf, oneOf, $ref, $defs)",
            path.c_str(), it.key().c_str());
    if (j.contains("$ref")) return ref(j["$ref"], path, depth);
    if (j.contains("const")) return literal({j["const"]}, path);
    if (j.contains("enum")) {
      if (!j["enum"].is_array() || j["enum"].empty())
        return errorf("%s.enum: must be a non-empty array", path.c_str());
      return literal(std::vector<json>(j["enum"].begin(), j["enum"].end()), path);
    }
    for (const char* k : {"anyOf", "oneOf"}) {
      if (!j.contains(k)) continue;
      const json& alts = j[k];
      if (!alts.is_array() || alts.empty())
        return errorf("%s.%s: must be a non-empty array", path.c_str(), k);
      std::vector<int> ids;
      for (size_t i = 0; i < alts.size(); ++i) {
        SF_ASSIGN_OR_RETURN(
            int id, compile(alts[i], path + "." + k + "[" + std::to_string(i) + "]", depth + 1));
        ids.push_back(id);
      }
      return add_union(std::move(ids));
    }
    if (!j.contains("type")) {
      if (j.contains("properties")) return object(j, path, depth);
      if (j.contains("items")) return array(j, path, depth);
      return JsonSchema::kAny;
    }
    const json& t = j["type"];
    if (t.is_string()) return typed(t.get<std::string>(), j, path, depth);
    if (t.is_array() && !t.empty()) {
      std::vector<int> ids;
      for (const auto& e : t) {
        if (!e.is_string()) return errorf("%s.type: entries must be strings", path.c_str());
        SF_ASSIGN_OR_RETURN(int id, typed(e.get<std::string>(), j, path, depth));
        ids.push_back(id);
      }
      return ids.size() == 1 ? ids[0] : add_union(std::move(ids));
    }
    return errorf("%s.type: must be a string or a non-empty array of strings", path.c_str());
  }

 private:
  static bool known(const std::string& k) {
    static const char* kKnown[] = {"type",        "properties", "required", "additionalProperties",
                                   "items",       "minItems",   "maxItems", "minLength",
                                   "maxLength",   "enum",       "const",    "anyOf",
                                   "oneOf",       "$ref",       "$defs",    "definitions",
                                   "description", "title",      "default",  "$schema",
                                   "$id",         "format",     "pattern",  "strict",
                                   "examples",    "nullable"};
    for (const char* x : kKnown)
      if (k == x) return true;
    return false;
  }

  int add(SchemaNode n) {
    s_.nodes_.push_back(std::move(n));
    return static_cast<int>(s_.nodes_.size()) - 1;
  }
  int add_union(std::vector<int> ids) {
    SchemaNode n;
    n.kind = SchemaNode::Union;
    n.alts = std::move(ids);
    return add(std::move(n));
  }

  Result<int> literal(const std::vector<json>& values, const std::string& path) {
    if (values.size() > 64) return errorf("%s: more than 64 enum values", path.c_str());
    SchemaNode n;
    n.kind = SchemaNode::Literal;
    for (const auto& v : values) {
      std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
      // A literal that is a prefix of another would need lookahead to end; JSON
      // strings, objects and arrays end on their own, so only bare numbers clash.
      n.literals.push_back(std::move(text));
    }
    return add(std::move(n));
  }

  Result<int> typed(const std::string& t, const json& j, const std::string& path, int depth) {
    if (t == "object") return object(j, path, depth);
    if (t == "array") return array(j, path, depth);
    if (t == "string") {
      SchemaNode n;
      n.kind = SchemaNode::String;
      SF_RETURN_IF_ERROR(bound(j, "minLength", path, n.min_len));
      SF_RETURN_IF_ERROR(bound(j, "maxLength", path, n.max_len));
      if (n.min_len > n.max_len) return errorf("%s: minLength > maxLength", path.c_str());
      return add(std::move(n));
    }
    if (t == "number") return JsonSchema::kFreeNumber;
    if (t == "integer") {
      SchemaNode n;
      n.kind = SchemaNode::Integer;
      return add(std::move(n));
    }
    if (t == "boolean") return literal({json(true), json(false)}, path);
    if (t == "null") return literal({json(nullptr)}, path);
    return errorf("%s.type: unknown type '%s'", path.c_str(), t.c_str());
  }

  Status bound(const json& j, const char* key, const std::string& path, int& out) {
    if (!j.contains(key)) return {};
    const json& v = j[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (1 << 30))
      return errorf("%s.%s: must be a non-negative integer", path.c_str(), key);
    out = static_cast<int>(v.get<int64_t>());
    return {};
  }

  Result<int> object(const json& j, const std::string& path, int depth) {
    SchemaNode n;
    n.kind = SchemaNode::Object;
    const json* props = j.contains("properties") ? &j["properties"] : nullptr;
    if (props && !props->is_object())
      return errorf("%s.properties: must be an object", path.c_str());
    if (!props || props->empty()) {
      // No declared properties: any keys, values as additionalProperties says.
      n.free_keys = true;
      n.items = JsonSchema::kAny;
      if (j.contains("additionalProperties")) {
        const json& ap = j["additionalProperties"];
        if (ap.is_boolean() && !ap.get<bool>()) {
          n.free_keys = false;  // the empty object only
        } else if (ap.is_object()) {
          SF_ASSIGN_OR_RETURN(n.items, compile(ap, path + ".additionalProperties", depth + 1));
        }
      }
      return add(std::move(n));
    }
    if (props->size() > 64) return errorf("%s: more than 64 properties", path.c_str());
    const int id = add(SchemaNode{});  // reserve (children are compiled first)
    for (auto it = props->begin(); it != props->end(); ++it) {
      const std::string esc = json(it.key()).dump();
      if (esc.size() != it.key().size() + 2 || it.key().empty())
        return errorf("%s: property name '%s' needs escaping or is empty (unsupported)",
                      path.c_str(), it.key().c_str());
      SF_ASSIGN_OR_RETURN(int c, compile(it.value(), path + "." + it.key(), depth + 1));
      n.prop_names.push_back(it.key());
      n.prop_nodes.push_back(c);
    }
    if (j.contains("required")) {
      const json& r = j["required"];
      if (!r.is_array()) return errorf("%s.required: must be an array", path.c_str());
      for (const auto& name : r) {
        if (!name.is_string()) return errorf("%s.required: entries must be strings", path.c_str());
        size_t i = 0;
        while (i < n.prop_names.size() && n.prop_names[i] != name.get<std::string>()) ++i;
        if (i == n.prop_names.size())
          return errorf("%s.required: '%s' is not among the properties", path.c_str(),
                        name.get<std::string>().c_str());
        n.required |= uint64_t{1} << i;
      }
    }
    s_.nodes_[id] = std::move(n);
    return id;
  }

  Result<int> array(const json& j, const std::string& path, int depth) {
    SchemaNode n;
    n.kind = SchemaNode::Array;
    n.items = JsonSchema::kAny;
    if (j.contains("items")) {
      if (j["items"].is_array()) return errorf("%s.items: tuple form unsupported", path.c_str());
      SF_ASSIGN_OR_RETURN(n.items, compile(j["items"], path + ".items", depth + 1));
    }
    SF_RETURN_IF_ERROR(bound(j, "minItems", path, n.min_items));
    SF_RETURN_IF_ERROR(bound(j, "maxItems", path, n.max_items));
    if (n.min_items > n.max_items) return errorf("%s: minItems > maxItems", path.c_str());
    return add(std::move(n));
  }

  Result<int> ref(const json& r, const std::string& path, int depth) {
    if (!r.is_string()) return errorf("%s.$ref: must be a string", path.c_str());
    const std::string s = r.get<std::string>();
    if (s == "#") return root_ref();
    std::string name, section;
    for (const char* pre : {"#/$defs/", "#/definitions/"})
      if (s.rfind(pre, 0) == 0) {
        section = std::string(pre).substr(2, std::string(pre).size() - 3);
        name = s.substr(std::string(pre).size());
      }
    if (name.empty() || !doc_.is_object() || !doc_.contains(section) ||
        !doc_[section].is_object() || !doc_[section].contains(name))
      return errorf("%s.$ref: cannot resolve '%s' (only #/$defs/NAME and #/definitions/NAME)",
                    path.c_str(), s.c_str());
    const std::string key = section + "/" + name;
    if (auto it = refs_.find(key); it != refs_.end()) return it->second;
    // A one-alternative union stands in for the definition so recursion resolves.
    const int id = add_union({});
    refs_[key] = id;
    SF_ASSIGN_OR_RETURN(int target, compile(doc_[section][name], path + ".$ref", depth + 1));
    s_.nodes_[id].alts = {target};
    return id;
  }

  Result<int> root_ref() {
    if (root_placeholder_ < 0) return errorf("$ref '#' is unsupported here");
    return root_placeholder_;
  }

 public:
  int root_placeholder_ = -1;

 private:
  JsonSchema& s_;
  const json& doc_;
  std::map<std::string, int> refs_;
};

Result<std::shared_ptr<const JsonSchema>> JsonSchema::compile(const json& schema) {
  std::shared_ptr<JsonSchema> s(new JsonSchema());
  SchemaCompiler c(*s, schema);
  c.root_placeholder_ = static_cast<int>(s->nodes_.size());
  s->nodes_.push_back(SchemaNode{});
  s->nodes_.back().kind = SchemaNode::Union;
  SF_ASSIGN_OR_RETURN(int root, c.compile(schema, "schema", 0));
  s->nodes_[c.root_placeholder_].alts = {root};
  s->root_ = root;
  return std::shared_ptr<const JsonSchema>(std::move(s));
}

std::shared_ptr<const JsonSchema> JsonSchema::any_object() {
  std::shared_ptr<JsonSchema> s(new JsonSchema());
  s->root_ = kFreeObject;
  return s;
}

Result<std::shared_ptr<const JsonSchema>> JsonSchema::tool_call(
    const std::vector<std::pair<std::string, json>>& tools) {
  if (tools.empty()) return Status::error("tool_call: no tools");
  if (tools.size() > 64) return Status::error("tool_call: more than 64 tools");
  std::shared_ptr<JsonSchema> s(new JsonSchema());
  SchemaNode tagged;
  tagged.kind = SchemaNode::Tagged;
  for (const auto& [name, params] : tools) {
    SchemaCompiler c(*s, params);
    SF_ASSIGN_OR_RETURN(int args, c.compile(params.is_null() ? json::object() : params,
                                            "tools." + name + ".parameters", 0));
    tagged.literals.push_back("{\"name\": " + json(name).dump() + ", \"arguments\": ");
    tagged.alts.push_back(args);
  }
  s->nodes_.push_back(std::move(tagged));
  s->root_ = static_cast<int>(s->nodes_.size()) - 1;
  return std::shared_ptr<const JsonSchema>(std::move(s));
}

}  // namespace sf
