import { Request, Response } from "express";
import { pool } from "../db";

export async function getProduct(req: Request, res: Response) {
  const { rows } = await pool.query(
    "SELECT id, name, price FROM products WHERE id = $1",
    [req.params.id],
  );
  if (rows.length === 0) {
    res.status(404).json({ error: "not found" });
    return;
  }
  res.json(rows[0]);
}
