-- octopus.sandbox.certs: a throwaway CA and server certificates made with the `openssl` command.
--
-- Invariants: everything lives in a fresh directory made by `mktemp -d` (mode 0700); keys
-- are P-256 and never leave it; the CA is valid two days; the server certificate names
-- 127.0.0.1 and localhost; the "wrong" certificate, signed by the same CA, names only
-- wrong.invalid (for hostname-mismatch tests). Works on Lua 5.1/LuaJIT and 5.4.
local M = {}

-- Runs cmd; its output, or raises with it. The status is echoed so 5.1 sees it too.
local function sh(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__rc=$?\"", "r"))
  local out = p:read("*a")
  p:close()
  local text, rc = out:match("^(.-)__rc=(%d+)%s*$")
  if rc == "0" then return text end
  error("certs: command failed: " .. cmd .. "\n" .. out, 2)
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local CA_CNF = [[
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = octopus sandbox throwaway CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
]]

local LEAF_CNF = [[
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = %s
]]

local function leaf(dir, name, cn, san)
  local d = quote(dir)
  write(dir .. "/" .. name .. ".ext", LEAF_CNF:format(san))
  sh(("cd %s && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    .. " -keyout %s.key -out %s.csr -subj '/CN=%s'"):format(d, name, name, cn))
  sh(("cd %s && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -set_serial 0x%x%x"
    .. " -days 2 -sha256 -extfile %s.ext -out %s.pem"):format(d, name,
      math.random(0x10000000, 0x7fffffff), math.random(0x10000000, 0x7fffffff), name, name))
  os.remove(dir .. "/" .. name .. ".csr")
  os.remove(dir .. "/" .. name .. ".ext")
  return dir .. "/" .. name .. ".pem", dir .. "/" .. name .. ".key"
end

-- generate{ dir = nil } -> { dir, ca_file, cert_file, key_file, wrong_cert_file, wrong_key_file }
-- Raises (with openssl's output, which holds no secret) when openssl fails.
function M.generate(opts)
  opts = opts or {}
  local dir = opts.dir or sh("mktemp -d /tmp/octopus-sandbox.XXXXXXXX"):gsub("%s+$", "")
  local d = quote(dir)
  write(dir .. "/ca.cnf", CA_CNF)
  sh(("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    .. " -config ca.cnf -keyout ca.key -out ca.pem -days 2 -sha256"):format(d))
  os.remove(dir .. "/ca.cnf")
  local cert, key = leaf(dir, "server", "localhost", "IP:127.0.0.1, DNS:localhost")
  local wcert, wkey = leaf(dir, "wrong", "wrong.invalid", "DNS:wrong.invalid")
  return { dir = dir, ca_file = dir .. "/ca.pem", cert_file = cert, key_file = key,
           wrong_cert_file = wcert, wrong_key_file = wkey }
end

-- Removes a directory made by generate (only one that looks like ours).
function M.remove(set)
  local dir = type(set) == "table" and set.dir or set
  if type(dir) == "string" and dir:match("^/tmp/octopus%-sandbox%.[%w]+$") then
    os.execute("rm -rf " .. quote(dir))
    return true
  end
  return false
end

return M
