import { pbkdf2Sync, randomBytes } from "node:crypto";

export interface PasswordHash {
  salt: string;
  hash: string;
}

export function hashPassword(password: string): PasswordHash {
  const salt = randomBytes(16).toString("hex");
  const hash = pbkdf2Sync(password, salt, 600_000, 64, "sha512").toString("hex");
  return { salt, hash };
}
