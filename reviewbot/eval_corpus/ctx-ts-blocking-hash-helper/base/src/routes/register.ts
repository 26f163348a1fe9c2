import { Router } from "express";
import { createUser } from "../db/users";

export const register = Router();

register.post("/register", async (req, res) => {
  const { email } = req.body;
  const user = await createUser({ email });
  res.status(201).json({ id: user.id });
});
